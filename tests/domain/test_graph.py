"""Building a graph from any stored definition: a graph or a WorkflowInvalid, never a crash."""

from __future__ import annotations

import pytest

from towpath.domain.definition import Edge, WorkflowDefinition
from towpath.domain.errors import WorkflowInvalid
from towpath.domain.graph import Graph, topological_order
from towpath.domain.scheduler import RunGraph


def _edge(source: str, target: str) -> Edge:
    return Edge(id=f"{source}->{target}", source=source, target=target)


def test_an_edge_to_a_node_that_does_not_exist_is_a_workflow_error() -> None:
    with pytest.raises(WorkflowInvalid) as raised:
        Graph.of(["a"], [_edge("a", "ghost")])
    assert raised.value.details["errors"] == [
        {"path": "/edges/0/target", "message": "edge 'a->ghost' names no node 'ghost'"}
    ]


def test_an_edge_from_a_node_that_does_not_exist_is_a_workflow_error() -> None:
    with pytest.raises(WorkflowInvalid) as raised:
        Graph.of(["a"], [_edge("ghost", "a")])
    assert raised.value.details["errors"][0]["path"] == "/edges/0/source"


def test_a_node_id_used_twice_is_a_workflow_error() -> None:
    with pytest.raises(WorkflowInvalid) as raised:
        Graph.of(["a", "b", "a"], [])
    assert raised.value.details["errors"] == [
        {"path": "/nodes/2/id", "message": "node id 'a' is used twice"}
    ]


def test_a_cycle_has_no_order() -> None:
    graph = Graph.of(["a", "b", "c"], [_edge("a", "b"), _edge("b", "c"), _edge("c", "b")])
    with pytest.raises(WorkflowInvalid) as raised:
        topological_order(graph)
    assert "['b', 'c']" in raised.value.details["errors"][0]["message"]


def test_a_run_graph_of_a_broken_definition_is_a_workflow_error() -> None:
    definition = WorkflowDefinition.model_validate(
        {"nodes": [{"id": "a", "type": "transform"}], "edges": [_edge("a", "b").model_dump()]}
    )
    with pytest.raises(WorkflowInvalid):
        RunGraph.of(definition)


def test_a_well_formed_graph_is_ordered_parents_first() -> None:
    graph = Graph.of(["c", "b", "a"], [_edge("a", "b"), _edge("b", "c")])
    assert topological_order(graph) == ["a", "b", "c"]
