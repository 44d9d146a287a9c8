"""for_each runs any step type per item: flow steps inside it behave as they do outside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx


def _loop(inner: dict[str, Any], concurrency: int = 2) -> dict[str, Any]:
    config = {"items": "{{ input.items }}", "step": inner, "concurrency": concurrency}
    return {
        "nodes": [
            node("each", "for_each", config),
            node("after", "transform", {"output": {"count": "{{ each | length }}"}}),
        ],
        "edges": [edge("each", "after")],
    }


async def _items(client: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    steps = (await client.get(f"{API}/runs/{run_id}/steps")).json()
    return sorted((s for s in steps if s["item_index"] is not None), key=lambda s: s["item_index"])


async def test_a_sub_workflow_per_item_completes_with_each_childs_output(
    client: httpx.AsyncClient,
) -> None:
    child = {
        "nodes": [node("shout", "transform", {"output": {"loud": "{{ input.word | upper }}"}})],
        "edges": [],
    }
    child_id = await publish(client, child, name="child")
    call = {"workflow_id": child_id, "input": {"word": "{{ item }}"}}
    inner = {"type": "sub_workflow", "config": call}
    workflow_id = await publish(client, _loop(inner), name="parent")

    run = await start(client, workflow_id, {"items": ["a", "b", "c"]})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    loud = [item["output"]["shout"]["loud"] for item in done["context"]["each"]]
    assert loud == ["A", "B", "C"]
    assert done["context"]["after"] == {"count": 3}


async def test_an_event_answers_only_the_item_waiting_for_its_key(
    client: httpx.AsyncClient,
) -> None:
    inner = {"type": "wait_for_event", "config": {"event_name": "paid", "key": "{{ item }}"}}
    workflow_id = await publish(client, _loop(inner, concurrency=3))
    run = await start(client, workflow_id, {"items": ["o-1", "o-2", "o-3"]})
    run_id = run["id"]
    await wait_for(client, run_id, "waiting")

    posted = await client.post(
        f"{API}/events", json={"name": "paid", "key": "o-2", "data": {"amount": 5}}
    )

    assert posted.status_code == 200, posted.text
    assert posted.json()["run_ids"] == [run_id]
    items = await _items(client, run_id)
    assert [i["status"] for i in items] == ["waiting", "completed", "waiting"]
    assert items[1]["output"]["data"] == {"amount": 5}
    steps = await steps_by_id(client, run_id)
    # The loop still waits for its other two items; nothing after it has run.
    assert steps["each"]["status"] == "waiting"
    assert "after" not in steps
    assert (await client.get(f"{API}/runs/{run_id}")).json()["status"] == "waiting"


async def test_a_delay_until_each_items_time_waits_then_completes(
    client: httpx.AsyncClient,
) -> None:
    inner = {"type": "delay", "config": {"until": "{{ item }}"}}
    workflow_id = await publish(client, _loop(inner))
    soon = datetime.now(UTC) + timedelta(seconds=1)
    items = [soon.isoformat(), (soon + timedelta(milliseconds=200)).isoformat()]

    run = await start(client, workflow_id, {"items": items})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert [o["waited_until"] for o in done["context"]["each"]] == items


async def test_an_item_whose_wait_times_out_fails_the_loop_and_the_run(
    client: httpx.AsyncClient,
) -> None:
    config = {"event_name": "paid", "key": "{{ item }}", "timeout_seconds": 1}
    inner = {"type": "wait_for_event", "config": config}
    workflow_id = await publish(client, _loop(inner))

    run = await start(client, workflow_id, {"items": [1]})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "item 0" in done["error"]
