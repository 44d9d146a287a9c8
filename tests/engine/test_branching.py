"""Graphs run: branches are taken by handle, the others skipped, joins wait for all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.factories import branching_definition, edge, node
from tests.runs import event_types, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx


async def test_condition_takes_one_branch_and_skips_the_other(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, branching_definition())

    run = await start(client, workflow_id, {"name": "Ada", "amount": 500})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done
    steps = await steps_by_id(client, run["id"])
    assert steps["greet"]["output"] == {"text": "hi Ada"}
    assert steps["check"]["output"] == {"result": True}
    assert steps["check"]["handle"] == "true"
    assert steps["big"]["output"] == {"said": "hi Ada"}
    assert steps["small"]["status"] == "skipped"
    assert done["context"]["big"] == {"said": "hi Ada"}
    types = await event_types(client, run["id"])
    assert types[:3] == ["run.created", "run.started", "step.queued"]
    assert types[-1] == "run.completed"
    assert "step.skipped" in types


async def test_a_join_waits_for_every_branch(client: httpx.AsyncClient) -> None:
    definition = {
        "nodes": [
            node("start", "transform", {"output": {"n": "{{ input.n }}"}}),
            node("left", "transform", {"output": {"v": "{{ start.n * 2 }}"}}),
            node("right", "transform", {"output": {"v": "{{ start.n + 1 }}"}}),
            node("join", "transform", {"output": {"sum": "{{ left.v + right.v }}"}}),
        ],
        "edges": [
            edge("start", "left"),
            edge("start", "right"),
            edge("left", "join"),
            edge("right", "join"),
        ],
    }
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id, {"n": 5})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done
    assert done["context"]["join"] == {"sum": 16}


async def test_a_run_executes_at_most_its_bound_of_steps_at_once(
    client: httpx.AsyncClient,
) -> None:
    nodes = [node(f"wait{i}", "delay", {"seconds": 0.2}) for i in range(4)]
    definition = {"nodes": nodes, "edges": [], "max_concurrency": 2}
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id)
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed"
    events = (await client.get(f"/api/v1/runs/{run['id']}/events")).json()
    running: set[str] = set()
    peak = 0
    for event in events:
        if event["event_type"] in ("step.started", "step.resumed"):
            running.add(event["step_id"])
        elif event["event_type"] in ("step.delayed", "step.completed"):
            running.discard(event["step_id"])
        peak = max(peak, len(running))
    assert peak == 2
