"""The workflow graph: nodes in definition order and the edges between them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from towpath.domain.errors import WorkflowInvalid

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towpath.domain.definition import Edge


@dataclass(frozen=True)
class Graph:
    """Nodes in definition order and the edges between them, both ways round."""

    node_ids: list[str]
    edges: list[Edge]
    children: dict[str, list[str]]
    parents: dict[str, list[str]]

    @classmethod
    def of(cls, node_ids: list[str], edges: list[Edge]) -> Graph:
        """The graph of these nodes and edges; a `WorkflowInvalid` if they do not make one
        (a node id twice, an edge to or from a node that does not exist)."""
        children: dict[str, list[str]] = {node_id: [] for node_id in node_ids}
        parents: dict[str, list[str]] = {node_id: [] for node_id in node_ids}
        errors = []
        if len(children) < len(node_ids):
            seen: set[str] = set()
            for i, node_id in enumerate(node_ids):
                if node_id in seen:
                    errors.append(
                        {"path": f"/nodes/{i}/id", "message": f"node id {node_id!r} is used twice"}
                    )
                seen.add(node_id)
        for i, edge in enumerate(edges):
            errors.extend(
                {"path": f"/edges/{i}/{end}", "message": f"edge {edge.id!r} names no node {name!r}"}
                for end, name in (("source", edge.source), ("target", edge.target))
                if name not in children
            )
        if errors:
            raise WorkflowInvalid(errors)
        for edge in edges:
            children[edge.source].append(edge.target)
            parents[edge.target].append(edge.source)
        return cls(node_ids, edges, children, parents)

    def outgoing(self, node_id: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.source == node_id]


def walk(start: str, neighbours: Mapping[str, list[str]], *, include_start: bool) -> set[str]:
    found = {start} if include_start else set()
    pending = deque(neighbours[start])
    while pending:
        node_id = pending.popleft()
        if node_id not in found:
            found.add(node_id)
            pending.extend(neighbours[node_id])
    return found


def topological_order(graph: Graph) -> list[str]:
    """Node ids, each after all of its parents; a `WorkflowInvalid` if there is a cycle."""
    waiting = {node_id: len(graph.parents[node_id]) for node_id in graph.node_ids}
    ready = deque(node_id for node_id in graph.node_ids if waiting[node_id] == 0)
    order: list[str] = []
    while ready:
        node_id = ready.popleft()
        order.append(node_id)
        for child in graph.children[node_id]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    if len(order) < len(graph.node_ids):
        stuck = sorted(node_id for node_id in graph.node_ids if waiting[node_id] > 0)
        raise WorkflowInvalid(
            [{"path": "/edges", "message": f"the edges make a cycle through {stuck}"}]
        )
    return order
