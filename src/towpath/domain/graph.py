"""The workflow graph: nodes in definition order and the edges between them."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
        children: dict[str, list[str]] = {node_id: [] for node_id in node_ids}
        parents: dict[str, list[str]] = {node_id: [] for node_id in node_ids}
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
    """Node ids, each after all of its parents (the graph is acyclic once validated)."""
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
    return order
