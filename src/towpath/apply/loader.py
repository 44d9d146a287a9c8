"""Reading a directory of definition files (YAML or JSON, subdirectories too) into documents."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from towpath.apply.errors import ApplyError
from towpath.apply.kinds import KINDS, Kind, key_of

if TYPE_CHECKING:
    from pathlib import Path

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Document:
    """One object as a file holds it: its kind and its fields (`kind` taken out)."""

    kind: Kind
    fields: dict[str, Any]
    path: Path | None = None

    @property
    def key(self) -> str:
        return key_of(self.kind, self.fields)

    @property
    def label(self) -> str:
        return f"{self.kind.name.lower()} {self.key}"


# Values one file may expand to: far more than any definition needs, and a bound on what
# YAML aliases that refer to each other (a "billion laughs") could make of a small file.
MAX_VALUES = 500_000


class _TooLarge(ValueError):
    pass


def _plain(value: Any, seen: list[int]) -> Any:
    """YAML reads an unquoted time as a datetime; the API takes it as ISO 8601 text. Each
    alias is expanded, so the values are counted as they are."""
    seen[0] += 1
    if seen[0] > MAX_VALUES:
        raise _TooLarge(f"it expands to more than {MAX_VALUES} values (aliases of aliases?)")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v, seen) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(item, seen) for item in value]
    return value


def _parse(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            return [json.loads(text)]
        seen = [0]
        return [_plain(item, seen) for item in yaml.safe_load_all(text) if item is not None]
    except RecursionError as error:
        message = "it nests too deep to read (an alias that contains itself?)"
        raise ApplyError(message, path) from error
    except (ValueError, yaml.YAMLError) as error:
        raise ApplyError(f"not valid {path.suffix[1:].upper()}: {error}", path) from error


def document(raw: Any, path: Path | None = None) -> Document:
    """A document from one parsed object, checked only as far as naming it needs: the
    server judges the rest."""
    if not isinstance(raw, dict):
        raise ApplyError("an object (a mapping with a `kind`) is expected", path)
    kind_name = raw.get("kind")
    if kind_name not in KINDS:
        raise ApplyError(f"`kind` must be one of {', '.join(KINDS)}; it is {kind_name!r}", path)
    kind = KINDS[kind_name]
    fields = {k: v for k, v in raw.items() if k != "kind"}
    unknown = sorted(set(fields) - set(kind.fields))
    if unknown:
        allowed = ", ".join(kind.fields)
        message = f"unknown field {unknown[0]!r} of kind {kind.name} (fields: {allowed})"
        raise ApplyError(message, path)
    missing = [name for name in kind.required if fields.get(name) in (None, "")]
    if missing:
        raise ApplyError(f"an object of kind {kind.name} needs `{missing[0]}`", path)
    for name in ("name", "url", "workflow"):
        if name in fields and fields[name] is not None and not isinstance(fields[name], str):
            raise ApplyError(f"`{name}` must be text", path)
    return Document(kind, fields, path)


def load_directory(directory: Path) -> list[Document]:
    """Every object of the files under `directory`, in path order; two files defining one
    object are an error naming both."""
    if not directory.is_dir():
        raise ApplyError(f"{directory} is not a directory")
    found: list[Document] = []
    seen: dict[tuple[str, str], Path | None] = {}
    for path in sorted(p for p in directory.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
        for raw in _parse(path):
            doc = document(raw, path)
            if (doc.kind.name, doc.key) in seen:
                earlier = seen[doc.kind.name, doc.key]
                raise ApplyError(f"{doc.label} is defined in {earlier} too", path)
            seen[doc.kind.name, doc.key] = path
            found.append(doc)
    return found
