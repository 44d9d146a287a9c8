"""The plan of an apply: each file's object to create, update or leave, with what changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from towpath.apply.errors import ApplyError
from towpath.apply.kinds import AGENT, SCHEDULE, SUBSCRIPTION, WORKFLOW, comparable

if TYPE_CHECKING:
    from towpath.apply.loader import Document
    from towpath.apply.state import Current, ServerState

Action = Literal["create", "update", "unchanged"]
# Agents before the workflows whose steps call them; workflows before what starts them.
ORDER = (AGENT, WORKFLOW, SCHEDULE, SUBSCRIPTION)
MAX_DIFF_LINES = 8


@dataclass(frozen=True)
class Step:
    action: Action
    desired: Document
    current: Current | None
    diff: list[str]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Each changed leaf, as `path: before -> after`."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for name in sorted(set(before) | set(after), key=str):
            where = f"{path}.{name}" if path else str(name)
            found += differences(before.get(name), after.get(name), where)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            line
            for index, (old, new) in enumerate(zip(before, after, strict=True))
            for line in differences(old, new, f"{path}[{index}]")
        ]
    return [] if before == after else [f"{path}: {_short(before)} -> {_short(after)}"]


def _diff(desired: Document, current: Current) -> list[str]:
    if current.document is None:
        return ["(no published version yet)"]
    kind = desired.kind
    found = differences(comparable(kind, current.document.fields), comparable(kind, desired.fields))
    if len(found) > MAX_DIFF_LINES:
        found = [*found[:MAX_DIFF_LINES], f"... and {len(found) - MAX_DIFF_LINES} more"]
    return found


def _check_workflow(doc: Document, named: set[str], state: ServerState) -> None:
    name = doc.fields.get("workflow")
    if name is None:
        return
    if (WORKFLOW.name, name) in state.ambiguous:
        raise ApplyError(f"more than one workflow on the server is named {name!r}", doc.path)
    current = state.find(WORKFLOW, name)
    if name not in named and current is None:
        raise ApplyError(f"no workflow named {name!r} here or on the server", doc.path)
    unpublished = (
        current is not None and current.lineage is not None and not current.lineage.published
    )
    if doc.kind is SCHEDULE and name not in named and unpublished:
        # A schedule runs a published version; the server would refuse it, by id.
        message = f"workflow {name!r} has no published version to run (only a draft)"
        raise ApplyError(message, doc.path)


def _check_version(doc: Document, publishing: set[str], state: ServerState) -> None:
    """A schedule pinned to a version names one the server has, or the one this apply
    publishes: versions are numbered by the server, one after its newest."""
    name, number = doc.fields.get("workflow"), doc.fields.get("workflow_version")
    if name is None or number is None:
        return
    current = state.find(WORKFLOW, name)
    lineage = current.lineage if current is not None else None
    if lineage is not None and lineage.version_id(number) is not None:
        return
    upcoming = int(lineage.newest["version"]) + 1 if lineage is not None else 1
    if name in publishing and number == upcoming:
        return
    message = f"workflow {name!r} has no version {number}"
    if name in publishing:
        message += f"; this apply publishes version {upcoming}"
    raise ApplyError(message + " (leave workflow_version out to follow the newest)", doc.path)


def make_plan(documents: list[Document], state: ServerState) -> list[Step]:
    """One step per document, in the order they can be carried out; a document that names
    an object ambiguously, a workflow that exists nowhere or a version that will not
    exist, stops it before any change."""
    named = {doc.fields["name"] for doc in documents if doc.kind is WORKFLOW}
    steps: list[Step] = []
    for kind in ORDER:
        # Workflows are planned before what names them: which ones get a new version.
        publishing = {
            step.desired.key
            for step in steps
            if step.desired.kind is WORKFLOW and step.action != "unchanged"
        }
        for doc in (d for d in documents if d.kind is kind):
            if (kind.name, doc.key) in state.ambiguous:
                raise ApplyError(f"more than one {doc.label} is on the server", doc.path)
            if kind in (SCHEDULE, SUBSCRIPTION):
                _check_workflow(doc, named, state)
            if kind is SCHEDULE:
                _check_version(doc, publishing, state)
            current = state.find(kind, doc.key)
            if current is None:
                steps.append(Step("create", doc, None, []))
                continue
            diff = _diff(doc, current)
            steps.append(Step("update" if diff else "unchanged", doc, current, diff))
    return steps


def summary(steps: list[Step], *, dry_run: bool) -> str:
    created = sum(step.action == "create" for step in steps)
    updated = sum(step.action == "update" for step in steps)
    unchanged = len(steps) - created - updated
    if dry_run:
        return (
            f"dry run: {created + updated} to change ({created} to create, {updated} to update),"
            f" {unchanged} unchanged; nothing was changed"
        )
    return (
        f"{created + updated} changed ({created} created, {updated} updated), {unchanged} unchanged"
    )


def describe(step: Step, *, dry_run: bool) -> list[str]:
    """The lines an apply prints for one step."""
    done = {"create": "created", "update": "updated", "unchanged": "unchanged"}[step.action]
    verb = f"would {step.action}" if dry_run and step.action != "unchanged" else done
    return [f"{step.desired.label}: {verb}", *(f"    {line}" for line in step.diff)]
