"""Each transition of a step is told once: across every step type, no step emits the same
lifecycle event twice for one attempt, in the run and in the child run it starts."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for, wait_for_step

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer

CHILD = {"nodes": [node("inner", "transform", {"output": {"ok": True}})], "edges": []}


def _every_step_type(echo_url: str, child_id: str) -> dict[str, Any]:
    each = {"type": "transform", "config": {"output": {"double": "{{ item * 2 }}"}}}
    nodes = [
        node("shape", "transform", {"output": {"tier": "gold"}}),
        node("check", "condition", {"expression": "shape.tier == 'gold'"}),
        node("never", "transform", {"output": {}}),
        node("route", "switch", {"value": "{{ shape.tier }}", "cases": {"gold": "gold"}}),
        node("nap", "delay", {"seconds": 0.2}),
        node("call", "http_request", {"url": f"{echo_url}/echo", "method": "POST"}),
        node("each", "for_each", {"items": "{{ [1, 2, 3] }}", "step": each, "concurrency": 2}),
        node("child", "sub_workflow", {"workflow_id": child_id, "input": {}}),
        node("review", "approval", {"message": "ok?"}),
        node("paid", "wait_for_event", {"event_name": "paid", "key": "{{ run.id }}"}),
    ]
    edges = [
        edge("shape", "check"),
        edge("check", "route", "true"),
        edge("check", "never", "false"),
        edge("route", "nap", "gold"),
        edge("nap", "call"),
        edge("call", "each"),
        edge("each", "child"),
        edge("child", "review"),
        edge("review", "paid"),
    ]
    return {"nodes": nodes, "edges": edges}


def _repeated(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Lifecycle events a step emitted more than once for the same attempt."""
    attempt: dict[tuple[Any, ...], int] = {}
    told: Counter[tuple[Any, ...]] = Counter()
    for event in events:
        kind = event["event_type"]
        if not kind.startswith("step.") or kind == "step.log":
            continue
        step = (event["step_id"], event["data"].get("item_index"))
        attempt[step] = event["data"].get("attempt", attempt.get(step, 0))
        told[(*step, attempt[step], kind)] += 1
    return [key for key, count in told.items() if count > 1]


async def test_no_step_tells_the_same_transition_twice(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    child_id = await publish(client, CHILD, name="child")
    workflow_id = await publish(client, _every_step_type(echo_server.url, child_id))
    run_id = (await start(client, workflow_id))["id"]

    await wait_for_step(client, run_id, "review", "waiting")
    approved = await client.post(f"{API}/runs/{run_id}/approve", json={"approved": True})
    assert approved.status_code == 200, approved.text
    await wait_for_step(client, run_id, "paid", "waiting")
    answered = await client.post(f"{API}/events", json={"name": "paid", "key": run_id})
    assert answered.json()["run_ids"] == [run_id]
    done = await wait_for(client, run_id, "completed", "failed", seconds=20)

    assert done["status"] == "completed", done["error"]
    events = (await client.get(f"{API}/runs/{run_id}/events")).json()
    child_run = done["context"]["child"]["run_id"]
    child_events = (await client.get(f"{API}/runs/{child_run}/events")).json()
    told = {e["event_type"] for e in events}
    # Every kind of step went through its life here, the delay and the loop included.
    assert {"step.started", "step.completed", "step.skipped", "step.waiting"} <= told
    assert _repeated(events) == []
    assert _repeated(child_events) == []
