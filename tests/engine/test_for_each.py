"""for_each runs a step per item, a bounded number at a time, outputs in order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx


def _loop(items: str, inner: dict[str, Any], concurrency: int = 2) -> dict[str, Any]:
    return {
        "nodes": [
            node("each", "for_each", {"items": items, "step": inner, "concurrency": concurrency}),
            node("after", "transform", {"output": {"count": "{{ each | length }}"}}),
        ],
        "edges": [edge("each", "after")],
    }


async def test_outputs_come_back_in_item_order(client: httpx.AsyncClient) -> None:
    inner = {
        "type": "transform",
        "config": {"output": {"double": "{{ item * 2 }}", "i": "{{ index }}"}},
    }
    workflow_id = await publish(client, _loop("{{ input.numbers }}", inner, concurrency=3))

    run = await start(client, workflow_id, {"numbers": [5, 1, 4, 2, 3, 9, 7]})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", (done["error"], done["context"])
    assert done["context"]["each"] == [
        {"double": n * 2, "i": i} for i, n in enumerate([5, 1, 4, 2, 3, 9, 7])
    ]
    assert done["context"]["after"] == {"count": 7}
    steps = (await client.get(f"{API}/runs/{run['id']}/steps")).json()
    items = [s for s in steps if s["item_index"] is not None]
    assert sorted(s["item_index"] for s in items) == list(range(7))
    assert all(s["status"] == "completed" for s in items)


async def test_concurrency_bounds_the_items_running_at_once(client: httpx.AsyncClient) -> None:
    inner = {"type": "delay", "config": {"seconds": 0.2}}
    workflow_id = await publish(client, _loop("{{ input.items }}", inner, concurrency=2))

    run = await start(client, workflow_id, {"items": list(range(5))})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", (done["error"], done["context"])
    events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
    # An item is in flight from its first start to its completion (a delay parks and
    # starts again in between).
    in_flight: set[int] = set()
    peak = 0
    for event in events:
        index = event["data"].get("item_index")
        if event["step_id"] != "each" or index is None:
            continue
        if event["event_type"] == "step.started":
            in_flight.add(index)
        elif event["event_type"] == "step.completed":
            in_flight.discard(index)
        peak = max(peak, len(in_flight))
    assert peak == 2


async def test_an_empty_list_completes_at_once(client: httpx.AsyncClient) -> None:
    inner = {"type": "transform", "config": {"output": {"x": "{{ item }}"}}}
    workflow_id = await publish(client, _loop("{{ input.items }}", inner))

    done = await wait_for(
        client, (await start(client, workflow_id, {"items": []}))["id"], "completed", "failed"
    )

    assert done["context"]["each"] == []


async def test_a_failing_item_fails_the_step_and_the_run(client: httpx.AsyncClient) -> None:
    inner = {"type": "transform", "config": {"output": {"x": "{{ item.missing_field }}"}}}
    workflow_id = await publish(client, _loop("{{ input.items }}", inner))

    run = await start(client, workflow_id, {"items": [{"a": 1}]})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "item 0" in done["error"]
    assert "missing_field" in done["error"]


async def test_items_that_are_not_a_list_fail_clearly(client: httpx.AsyncClient) -> None:
    inner = {"type": "transform", "config": {"output": {}}}
    workflow_id = await publish(client, _loop("{{ input.items }}", inner))

    run = await start(client, workflow_id, {"items": "abc"})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "list" in done["error"]
