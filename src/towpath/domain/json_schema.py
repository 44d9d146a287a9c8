"""JSON Schemas that users write (a workflow's input schema, an llm step's `json_schema`):
every `$ref` must resolve inside the schema itself, since towpath never fetches one, and
every pattern is matched by RE2, in linear time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from jsonschema.exceptions import SchemaError
from jsonschema.validators import Draft202012Validator, validator_for

# jsonschema's own registry of the JSON Schema metaschemas (shipped without type hints).
from jsonschema_specifications import REGISTRY as METASCHEMAS  # type: ignore[import-untyped]
from referencing import Registry
from referencing.exceptions import PointerToNowhere, Unresolvable
from referencing.jsonschema import DRAFT202012, specification_with

from towpath.domain.schema_patterns import (
    MIXED_KEYWORDS,
    linear_validator_class,
    mixes_pattern_keywords,
    regex_format_checker,
    unusable_patterns,
)

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


def pattern_problems(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(JSON path, problem) of each pattern of `schema` that RE2 cannot match."""
    problems = list(unusable_patterns(schema))
    if mixes_pattern_keywords(schema):
        problems.append(("$", MIXED_KEYWORDS))
    return problems


def check_schema(schema: dict[str, Any]) -> None:
    """Raise jsonschema's SchemaError unless `schema` is valid for its dialect; a pattern
    is a valid regular expression when RE2 compiles it."""
    cls = validator_for(schema, default=Draft202012Validator)
    # What `cls.check_schema` does, with RE2's idea of a regular expression.
    meta = validator_for(cls.META_SCHEMA, default=cls)
    checker = meta(cls.META_SCHEMA, format_checker=regex_format_checker(cls))
    for error in checker.iter_errors(schema):
        raise SchemaError.create_from(error)


def offline_validator(schema: dict[str, Any], *, check_formats: bool = False) -> Validator:
    """A validator for `schema` that resolves references within it (and to the
    metaschemas) only: an unknown `$ref` fails, it is never fetched. Patterns are matched
    by RE2; one it cannot compile fails the value it checks, saying why."""
    base = validator_for(schema, default=Draft202012Validator)
    cls = linear_validator_class(base, refuse_unevaluated=mixes_pattern_keywords(schema))
    format_checker = cls.FORMAT_CHECKER if check_formats else None
    return cls(schema, registry=Registry(), format_checker=format_checker)
