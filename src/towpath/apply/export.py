"""Writing the server's objects as files: one per object, a stable name, stable key order,
so that applying the directory again changes nothing."""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any, Literal

import yaml

from towpath.apply.errors import ApplyError
from towpath.apply.kinds import AGENT, SUBSCRIPTION
from towpath.apply.plan import ORDER

if TYPE_CHECKING:
    from pathlib import Path

    from towpath.apply.loader import Document
    from towpath.apply.state import ServerState

Format = Literal["yaml", "json"]
FOLDERS = {"Agent": "agents", "Workflow": "workflows", "Schedule": "schedules"}
FOLDERS["Subscription"] = "subscriptions"
# Header names whose literal value is a credential better kept as `{{ secrets.NAME }}`.
CREDENTIAL_HINTS = ("authorization", "token", "key", "secret", "password", "cookie")


def _sorted(value: Any) -> Any:
    """Nested objects with their keys sorted: the server may keep them in another order."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def as_file(doc: Document) -> dict[str, Any]:
    """The object as a file holds it: `kind`, then its fields in the kind's order; a field
    that is null is left out."""
    body: dict[str, Any] = {"kind": doc.kind.name}
    for name in doc.kind.fields:
        if doc.fields.get(name) is not None:
            body[name] = _sorted(doc.fields[name])
    return body


def render(doc: Document, fmt: Format) -> str:
    body = as_file(doc)
    if fmt == "json":
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "unnamed"


def file_stem(doc: Document) -> str:
    if doc.kind is SUBSCRIPTION:
        where = re.sub(r"^https?://", "", str(doc.fields["url"]))
        return _slug(f"{doc.fields.get('workflow') or 'all'}-{where}")
    return _slug(str(doc.fields["name"]))


def literal_credentials(doc: Document) -> list[str]:
    """The names of an agent's headers that hold a literal value where a credential is
    expected, rather than a reference such as `Bearer {{ secrets.TOKEN }}`."""
    if doc.kind is not AGENT:
        return []
    headers = doc.fields.get("headers") or {}
    return [
        name
        for name, value in headers.items()
        if any(hint in name.lower() for hint in CREDENTIAL_HINTS) and "{{" not in str(value)
    ]


def exported(state: ServerState) -> tuple[list[Document], list[str]]:
    """The documents to write, in kind order, and notes on what was left out."""
    docs: list[Document] = []
    notes: list[str] = []
    unpublished: set[str] = set()
    for kind in ORDER:
        for (kind_name, key), current in sorted(state.objects.items()):
            if kind_name != kind.name:
                continue
            if current.document is None:
                notes.append(f"workflow {key}: not exported, it has no published version")
                unpublished.add(key)
                continue
            named = current.document.fields.get("workflow")
            if named in unpublished:
                # It would name a workflow the files do not define: no apply could take it.
                notes.append(
                    f"{kind.name.lower()} {key}: not exported, its workflow {named} has no"
                    " published version"
                )
                continue
            if (kind_name, key) in state.ambiguous:
                notes.append(f"{kind.name.lower()} {key}: only one of several so named exported")
            docs.append(current.document)
    for doc in docs:
        for header in literal_credentials(doc):
            notes.append(
                f"{doc.label}: header {header} holds a literal value; a reference such as"
                " `{{ secrets.NAME }}` keeps it out of files"
            )
    return docs, notes


def write_files(docs: list[Document], directory: Path, fmt: Format) -> list[Path]:
    written: list[Path] = []
    taken: set[Path] = set()
    for doc in docs:
        folder = directory / FOLDERS[doc.kind.name]
        path = folder / f"{file_stem(doc)}.{fmt}"
        if path in taken:
            digest = hashlib.sha256(doc.key.encode()).hexdigest()[:8]
            path = folder / f"{file_stem(doc)}-{digest}.{fmt}"
        taken.add(path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(render(doc, fmt), encoding="utf-8")
        except OSError as error:
            raise ApplyError(f"cannot write it: {error.strerror or error}", path) from error
        written.append(path)
    return written
