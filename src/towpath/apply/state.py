"""What the server holds, read over the API into the documents a directory would hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from towpath.apply.kinds import AGENT, SCHEDULE, SUBSCRIPTION, WORKFLOW, Kind, key_of
from towpath.apply.loader import Document

if TYPE_CHECKING:
    from towpath.apply.client import Api


@dataclass
class Lineage:
    """Every version of one workflow, oldest first."""

    versions: list[dict[str, Any]]

    @property
    def newest(self) -> dict[str, Any]:
        return self.versions[-1]

    @property
    def published(self) -> dict[str, Any] | None:
        done = [v for v in self.versions if v["status"] == "published"]
        return done[-1] if done else None

    @property
    def name(self) -> str:
        return str((self.published or self.newest)["name"])

    def version_id(self, number: int) -> str | None:
        return next((v["id"] for v in self.versions if v["version"] == number), None)


@dataclass(frozen=True)
class Current:
    """An object on the server: its id, and its document (None: a workflow with no
    published version)."""

    id: str
    document: Document | None
    lineage: Lineage | None = None


@dataclass
class ServerState:
    lineages: dict[str, Lineage] = field(default_factory=dict)
    # Any version's id: its lineage's id.
    lineage_of: dict[str, str] = field(default_factory=dict)
    objects: dict[tuple[str, str], Current] = field(default_factory=dict)
    # Keys more than one object on the server answers to: applying them is refused.
    ambiguous: set[tuple[str, str]] = field(default_factory=set)

    def find(self, kind: Kind, key: str) -> Current | None:
        return self.objects.get((kind.name, key))

    def workflow_name(self, version_id: str | None) -> str | None:
        if version_id is None:
            return None
        lineage_id = self.lineage_of.get(version_id, version_id)
        found = self.lineages.get(lineage_id)
        return found.name if found else version_id

    def add(self, kind: Kind, key: str, current: Current) -> None:
        if (kind.name, key) in self.objects:
            self.ambiguous.add((kind.name, key))
            return
        self.objects[kind.name, key] = current


def _fields(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in kind.fields if name in values}


def _workflow(lineage: Lineage) -> Document | None:
    published = lineage.published
    return Document(WORKFLOW, _fields(WORKFLOW, published)) if published else None


def _agent(agent: dict[str, Any]) -> Document:
    return Document(AGENT, _fields(AGENT, {**agent, "agent_kind": agent["kind"]}))


def _schedule(state: ServerState, schedule: dict[str, Any]) -> Document:
    version = None
    if schedule["version_id"] is not None:
        lineage = state.lineages.get(state.lineage_of.get(schedule["version_id"], ""))
        pinned = (
            [v for v in lineage.versions if v["id"] == schedule["version_id"]] if lineage else []
        )
        version = pinned[0]["version"] if pinned else None
    values = {
        **schedule,
        "workflow": state.workflow_name(schedule["workflow_id"]),
        "workflow_version": version,
    }
    return Document(SCHEDULE, _fields(SCHEDULE, values))


def _subscription(state: ServerState, subscription: dict[str, Any]) -> Document:
    values = {**subscription, "workflow": state.workflow_name(subscription["workflow_id"])}
    return Document(SUBSCRIPTION, _fields(SUBSCRIPTION, values))


async def read_state(api: Api) -> ServerState:
    state = ServerState()
    for version in sorted(await api.list_all("/workflows"), key=lambda v: v["version"]):
        state.lineages.setdefault(version["lineage_id"], Lineage([])).versions.append(version)
        state.lineage_of[version["id"]] = version["lineage_id"]
    for lineage in state.lineages.values():
        current = Current(lineage.newest["id"], _workflow(lineage), lineage)
        state.add(WORKFLOW, lineage.name, current)
    for agent in await api.list_all("/agents"):
        state.add(AGENT, agent["name"], Current(agent["id"], _agent(agent)))
    for schedule in await api.list_all("/schedules"):
        state.add(SCHEDULE, schedule["name"], Current(schedule["id"], _schedule(state, schedule)))
    for subscription in await api.list_all("/subscriptions"):
        doc = _subscription(state, subscription)
        state.add(SUBSCRIPTION, key_of(SUBSCRIPTION, doc.fields), Current(subscription["id"], doc))
    return state
