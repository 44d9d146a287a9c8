"""The retry planner over random DAGs with random outcomes: a step that keeps its output
never waits on a step that runs again, and a plain retry runs only what failed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.domain.test_planner_properties import DEFAULT_HANDLES, dags
from towpath.domain.definition import WorkflowDefinition
from towpath.domain.scheduler import RunGraph
from towpath.engine.retry_plan import (
    OverrideNotRunAgain,
    RetryRequest,
    UnknownStep,
    plan_retry,
)

ENDED = ["completed", "failed", "skipped", "cancelled"]


def _graph(definition: dict[str, Any]) -> RunGraph:
    nodes = [
        {**n, "position": {"x": 0, "y": 0}, "data": {"label": n["id"], "config": {}}}
        for n in definition["nodes"]
    ]
    parsed = WorkflowDefinition.model_validate({**definition, "nodes": nodes})
    return RunGraph.of(parsed, DEFAULT_HANDLES)


@settings(max_examples=200, deadline=None)
@given(definition=dags(), data=st.data())
def test_what_is_kept_never_waits_on_what_runs_again(
    definition: dict[str, Any], data: st.DataObject
) -> None:
    graph = _graph(definition)
    ended = {
        node_id: (data.draw(st.sampled_from(ENDED)), graph.step_types[node_id])
        for node_id in data.draw(st.sets(st.sampled_from(graph.order)))
    }
    from_step = data.draw(st.sampled_from([None, *graph.order]))

    plan = plan_retry(graph, ended, RetryRequest(from_step=from_step), set(), {})

    again, keep = set(plan.run_again), set(plan.keep)
    failed = {s for s, (status, _) in ended.items() if status in ("failed", "cancelled")}
    assert not again & keep
    assert keep | (again & set(ended)) == set(ended)
    assert failed <= again
    assert {ended[s][0] for s in keep} <= {"completed", "skipped"}
    if from_step is None:
        assert again == failed
    else:
        assert from_step in again
        for edge in graph.graph.edges:
            # Downstream of a step that runs again, every step runs again.
            assert edge.source not in again or edge.target in again
    assert plan.run_again == [n for n in graph.order if n in again]


def test_overrides_must_name_a_step_that_runs_again() -> None:
    graph = _graph(
        {
            "nodes": [{"id": "a", "type": "transform"}, {"id": "b", "type": "transform"}],
            "edges": [{"id": "a-b", "source": "a", "target": "b"}],
        }
    )
    ended = {"a": ("completed", "transform"), "b": ("completed", "transform")}
    with pytest.raises(UnknownStep):
        plan_retry(graph, ended, RetryRequest(from_step="z"), set(), {})
    with pytest.raises(OverrideNotRunAgain) as raised:
        request = RetryRequest(from_step="b", step_inputs={"a": {"output": {}}})
        plan_retry(graph, ended, request, set(), {"status": "completed"})
    assert raised.value.details == {"status": "completed", "steps": ["a"], "run_again": ["b"]}
