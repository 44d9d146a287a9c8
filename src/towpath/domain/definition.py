"""The workflow definition model: React Flow compatible nodes and edges."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from towpath.domain.templates import TemplateError, referenced_names


class Position(BaseModel):
    model_config = ConfigDict(extra="allow")

    x: float = 0
    y: float = 0


class NodeData(BaseModel):
    # React Flow editors keep their own keys in data; they are stored untouched.
    model_config = ConfigDict(extra="allow")

    label: str = ""
    config: dict[str, Any] = Field(default_factory=dict)


class Node(BaseModel):
    # Editors add width, height, selected, measured ...; they are kept, not refused.
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=128)
    type: str = Field(min_length=1, max_length=64)
    position: Position = Field(default_factory=Position)
    data: NodeData = Field(default_factory=NodeData)

    @property
    def config(self) -> dict[str, Any]:
        return self.data.config


class Edge(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=128)
    target: str = Field(min_length=1, max_length=128)
    sourceHandle: str | None = None  # React Flow's field name


class WorkflowDefinition(BaseModel):
    model_config = ConfigDict(extra="allow")

    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)


class Concurrency(BaseModel):
    """At most `limit` runs of the workflow (every version) at once, counted per rendered
    `key` when there is one; `on_full` says what a start does when they are all taken."""

    model_config = ConfigDict(extra="forbid")

    limit: StrictInt = Field(ge=1)
    # A template over the run's input, e.g. `{{ input.customer_id }}`.
    key: str | None = Field(default=None, min_length=1, max_length=500)
    on_full: Literal["queue", "cancel_newest", "cancel_oldest"] = "queue"


class RateLimit(BaseModel):
    """At most `runs` runs start in any `per_seconds` window; the next ones queue."""

    model_config = ConfigDict(extra="forbid")

    runs: StrictInt = Field(ge=1)
    per_seconds: float = Field(gt=0, le=86_400)


class FlowControl(BaseModel):
    """How a workflow's runs take turns: its definition's `concurrency`, `rate_limit` and
    `priority`, beside its nodes and edges."""

    concurrency: Concurrency | None = None
    rate_limit: RateLimit | None = None
    # Workers take the ready steps of higher-priority runs of a workspace first.
    priority: StrictInt = Field(default=0, ge=-1000, le=1000)

    @property
    def limited(self) -> bool:
        """Whether a start must count what runs already: only then does it read more."""
        return self.concurrency is not None or self.rate_limit is not None

    @classmethod
    def of(cls, definition: dict[str, Any]) -> FlowControl:
        """The settings of a definition; what does not parse reads as none (a definition
        is checked by `flow_control_problems` before it is published)."""
        try:
            return cls.model_validate(_given(definition))
        except ValidationError:
            return NO_FLOW_CONTROL


FLOW_FIELDS = ("concurrency", "rate_limit", "priority")
NO_FLOW_CONTROL = FlowControl()


def _given(definition: dict[str, Any]) -> dict[str, Any]:
    return {name: definition[name] for name in FLOW_FIELDS if definition.get(name) is not None}


def flow_control_problems(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, message) for each flow-control setting a definition gets wrong."""
    try:
        flow = FlowControl.model_validate(_given(definition))
    except ValidationError as exc:
        return [
            (".".join(str(part) for part in error["loc"]), error["msg"]) for error in exc.errors()
        ]
    key = flow.concurrency.key if flow.concurrency is not None else None
    if key is None:
        return []
    try:
        names = referenced_names(key)
    except TemplateError as exc:
        return [("concurrency.key", str(exc))]
    if names - {"input"}:
        unknown = ", ".join(sorted(names - {"input"}))
        message = f"the key is rendered at start and reads only input, not {unknown}"
        return [("concurrency.key", message)]
    return []


def empty_definition() -> dict[str, Any]:
    return {"nodes": [], "edges": []}
