"""The scheduling core: given where a run's steps stand, what happens next. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from towpath.domain.graph import Graph, topological_order
from towpath.domain.states import STEP_TERMINAL, RunStatus, StepStatus

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towpath.domain.definition import Edge, WorkflowDefinition


@dataclass(frozen=True)
class StepState:
    status: str
    # The handle a branching step left by; None for a plain step (every edge delivers).
    handle: str | None = None


@dataclass(frozen=True)
class Plan:
    queue: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    # RunStatus.COMPLETED or RunStatus.FAILED once every step has ended.
    outcome: RunStatus | None = None


@dataclass(frozen=True)
class RunGraph:
    """A published definition, prepared once for scheduling."""

    graph: Graph
    order: list[str]
    step_types: dict[str, str]
    incoming: dict[str, list[Edge]]
    # The handle an edge without `sourceHandle` stands for, per node (approval: approved).
    default_handles: dict[str, str]

    @classmethod
    def of(
        cls, definition: WorkflowDefinition, default_handles: Mapping[str, str] | None = None
    ) -> RunGraph:
        graph = Graph.of([n.id for n in definition.nodes], list(definition.edges))
        types = {n.id: n.type for n in definition.nodes}
        by_node = {
            n.id: (default_handles or {})[n.type]
            for n in definition.nodes
            if n.type in (default_handles or {})
        }
        incoming: dict[str, list[Edge]] = {node_id: [] for node_id in graph.node_ids}
        for edge in graph.edges:
            incoming[edge.target].append(edge)
        return cls(graph, topological_order(graph), types, incoming, by_node)


def _delivers(run_graph: RunGraph, edge: Edge, source: StepState) -> bool:
    if source.status != StepStatus.COMPLETED:
        return False
    if source.handle is None:
        return True
    handle = edge.sourceHandle or run_graph.default_handles.get(edge.source)
    return handle == source.handle


def plan(run_graph: RunGraph, states: Mapping[str, StepState]) -> Plan:
    """Steps to queue and to skip now, and the run's outcome once every step has ended.

    A step runs when all its incoming edges are resolved and at least one delivered; a
    step none of whose edges delivered is skipped, and that may resolve its children.
    """
    if any(state.status == StepStatus.FAILED for state in states.values()):
        return Plan(outcome=RunStatus.FAILED)
    known = dict(states)
    queue, skip = [], []
    for node_id in run_graph.order:
        if node_id in known and known[node_id].status != StepStatus.PENDING:
            # A pending step (set back by a retry from a step) is decided again below.
            continue
        edges = run_graph.incoming[node_id]
        sources = [known.get(edge.source) for edge in edges]
        if any(s is None or s.status not in STEP_TERMINAL for s in sources):
            continue
        if not edges or any(
            _delivers(run_graph, edge, s) for edge, s in zip(edges, sources, strict=True) if s
        ):
            queue.append(node_id)
            known[node_id] = StepState(StepStatus.QUEUED)
        else:
            skip.append(node_id)
            known[node_id] = StepState(StepStatus.SKIPPED)
    done = all(
        node_id in known and known[node_id].status in STEP_TERMINAL for node_id in run_graph.order
    )
    return Plan(queue, skip, RunStatus.COMPLETED if done else None)
