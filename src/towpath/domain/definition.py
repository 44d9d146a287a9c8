"""The workflow definition model: React Flow compatible nodes and edges."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


def empty_definition() -> dict[str, Any]:
    return {"nodes": [], "edges": []}
