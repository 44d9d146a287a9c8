"""Answering waiting steps: only steps that wait for a person or an event take answers,
and a request in the wrong state is a 409 that says the state it found."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx

ANSWERS: dict[str, dict[str, Any]] = {
    "approve": {"approved": True},
    "clarify": {"answers": {"q": "x"}},
    "resume": {"data": {"ok": True}},
}


def _envelope(body: dict[str, Any]) -> None:
    assert set(body) == {"error_code", "message", "details", "request_id"}, body


async def test_resume_cannot_complete_a_for_each_whose_items_still_run(
    client: httpx.AsyncClient,
) -> None:
    inner = {"type": "wait_for_event", "config": {"event_name": "go", "key": "{{ item }}"}}
    definition = {
        "nodes": [
            node("each", "for_each", {"items": "{{ input.items }}", "step": inner}),
            node("after", "transform", {"output": {"done": True}}),
        ],
        "edges": [edge("each", "after")],
    }
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id, {"items": ["a", "b"]})
    await wait_for(client, run["id"], "waiting")

    resumed = await client.post(
        f"{API}/runs/{run['id']}/resume", json={"step_id": "each", "data": {"fake": True}}
    )

    # The loop waits for its items, not for a person: it is not answered by hand.
    assert resumed.status_code == 409, resumed.text
    _envelope(resumed.json())
    steps = await steps_by_id(client, run["id"])
    assert steps["each"]["status"] == "waiting"
    assert "after" not in steps
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "waiting"


async def test_resume_cannot_complete_a_sub_workflow_whose_child_still_runs(
    client: httpx.AsyncClient,
) -> None:
    child = {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}
    child_id = await publish(client, child, name="child")
    parent = {
        "nodes": [node("call", "sub_workflow", {"workflow_id": child_id})],
        "edges": [],
    }
    parent_id = await publish(client, parent, name="parent")
    run = await start(client, parent_id)
    await wait_for(client, run["id"], "waiting")

    resumed = await client.post(
        f"{API}/runs/{run['id']}/resume", json={"step_id": "call", "data": {"fake": True}}
    )

    assert resumed.status_code == 409, resumed.text
    parent_run = (await client.get(f"{API}/runs/{run['id']}")).json()
    assert parent_run["status"] == "waiting"


@pytest.mark.parametrize("action", sorted(ANSWERS))
async def test_answering_a_finished_run_is_409_with_its_status(
    client: httpx.AsyncClient, action: str
) -> None:
    definition = {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "completed")

    answered = await client.post(f"{API}/runs/{run['id']}/{action}", json=ANSWERS[action])

    assert answered.status_code == 409, answered.text
    body = answered.json()
    _envelope(body)
    # The same key cancel and retry use for the state they found.
    assert body["details"].get("status") == "completed", body
