"""The planner over random DAGs with random outcomes: what must hold for every run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st

from towpath.domain.definition import WorkflowDefinition
from towpath.domain.scheduler import RunGraph, StepState, plan
from towpath.domain.states import STEP_TERMINAL

if TYPE_CHECKING:
    from towpath.domain.definition import Edge

# A branching step leaves by one of these handles; a plain step by none.
BRANCHES = {"condition": ("true", "false"), "approval": ("approved", "rejected")}
DEFAULT_HANDLES = {"approval": "approved"}


@st.composite
def dags(draw: st.DrawFn) -> dict[str, Any]:
    """Nodes in a random order of types; edges only forward, so the graph is acyclic."""
    count = draw(st.integers(min_value=1, max_value=12))
    types = draw(
        st.lists(
            st.sampled_from(["transform", "condition", "approval"]), min_size=count, max_size=count
        )
    )
    nodes = [{"id": f"n{i}", "type": kind} for i, kind in enumerate(types)]
    edges = []
    for target in range(1, count):
        sources = draw(st.sets(st.integers(min_value=0, max_value=target - 1), max_size=3))
        for source in sorted(sources):
            handles = BRANCHES.get(types[source])
            handle = draw(st.sampled_from([None, *handles])) if handles else None
            edge: dict[str, Any] = {
                "id": f"n{source}-n{target}",
                "source": f"n{source}",
                "target": f"n{target}",
            }
            if handle is not None:
                edge["sourceHandle"] = handle
            edges.append(edge)
    return {"nodes": nodes, "edges": edges}


def _delivered(graph: RunGraph, edge: Edge, states: dict[str, StepState]) -> bool:
    source = states[edge.source]
    if source.status != "completed":
        return False
    if source.handle is None:
        return True
    return (edge.sourceHandle or graph.default_handles.get(edge.source)) == source.handle


@settings(max_examples=300, deadline=None)
@given(definition=dags(), data=st.data())
def test_every_run_of_a_random_dag_ends_and_keeps_the_rules(
    definition: dict[str, Any], data: st.DataObject
) -> None:
    graph = RunGraph.of(WorkflowDefinition.model_validate(definition), DEFAULT_HANDLES)
    states: dict[str, StepState] = {}
    queued_once: set[str] = set()
    outcome = None
    for _ in range(len(graph.order) + 1):
        step = plan(graph, states)
        for node_id in step.skip:
            assert node_id not in states, "a step is skipped once, and only if it never ran"
            states[node_id] = StepState("skipped")
        if step.outcome is not None:
            assert not step.queue
            outcome = step.outcome
            break
        assert step.queue, "a run that has not ended always has a step to run"
        for node_id in step.queue:
            # Each step runs at most once per attempt, and only once its parents have ended
            # and one of its incoming edges delivered.
            assert node_id not in queued_once
            queued_once.add(node_id)
            incoming = graph.incoming[node_id]
            assert all(states[e.source].status in STEP_TERMINAL for e in incoming)
            assert not incoming or any(_delivered(graph, e, states) for e in incoming)
        for node_id in step.queue:
            # One step in eight fails, so most runs reach their end.
            failed = data.draw(st.integers(0, 7).map(lambda n: n == 0), label=f"{node_id} fails")
            handles = BRANCHES.get(graph.step_types[node_id])
            handle = data.draw(st.sampled_from(handles), label=f"{node_id} by") if handles else None
            states[node_id] = StepState("failed") if failed else StepState("completed", handle)
    assert outcome is not None, "the run ended within as many rounds as it has steps"
    if outcome == "failed":
        assert any(s.status == "failed" for s in states.values())
        return
    assert set(states) == set(graph.order), "a completed run has every step ended"
    for node_id, state in states.items():
        incoming = graph.incoming[node_id]
        if state.status == "skipped":
            # Skipped exactly when none of its incoming edges delivered.
            assert incoming and not any(_delivered(graph, e, states) for e in incoming)
        else:
            assert not incoming or any(_delivered(graph, e, states) for e in incoming)
