"""JSON Schemas that users write (a workflow's input schema, an llm step's `json_schema`):
every `$ref` must resolve inside the schema itself, since towpath never fetches one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from jsonschema.validators import Draft202012Validator, validator_for

# jsonschema's own registry of the JSON Schema metaschemas (shipped without type hints).
from jsonschema_specifications import REGISTRY as METASCHEMAS  # type: ignore[import-untyped]
from referencing import Registry
from referencing.exceptions import PointerToNowhere, Unresolvable
from referencing.jsonschema import DRAFT202012, specification_with

if TYPE_CHECKING:
    from collections.abc import Iterator

    from jsonschema.protocols import Validator
    from referencing import Resource


def _references(resource: Resource[Any], base: str) -> Iterator[tuple[str, str]]:
    """(base URI, $ref) of every reference in the schema's subschemas (not in `const`,
    `enum` or `default`, where `$ref` is plain data)."""
    if resource.id():
        base = urljoin(base, resource.id() or "")
    contents = resource.contents
    if isinstance(contents, dict) and isinstance(contents.get("$ref"), str):
        yield base, contents["$ref"]
    for subresource in resource.subresources():
        yield from _references(subresource, base)


def dangling_references(schema: dict[str, Any]) -> list[str]:
    """Why each `$ref` of `schema` cannot be followed, or [] when every one resolves within
    the schema (or to a JSON Schema metaschema)."""
    dialect = schema.get("$schema")
    specification = specification_with(
        dialect if isinstance(dialect, str) else "", default=DRAFT202012
    )
    root = specification.create_resource(schema)
    registry = Registry().with_resource(root.id() or "", root).crawl()
    registry = registry.combine(METASCHEMAS)
    problems = []
    for base, reference in _references(root, root.id() or ""):
        try:
            registry.resolver(base_uri=base).lookup(reference)
        except PointerToNowhere:
            problems.append(f"$ref {reference!r} points to nothing in this schema")
        except Unresolvable:
            problems.append(
                f"$ref {reference!r} is not in this schema; other documents are never fetched,"
                " so put what it names under $defs"
            )
    return problems


def offline_validator(schema: dict[str, Any], *, check_formats: bool = False) -> Validator:
    """A validator for `schema` that resolves references within it (and to the
    metaschemas) only: an unknown `$ref` fails, it is never fetched."""
    cls = validator_for(schema, default=Draft202012Validator)
    format_checker = cls.FORMAT_CHECKER if check_formats else None
    return cls(schema, registry=Registry(), format_checker=format_checker)
