"""A for_each has an item limit, and an item costs the same however long the loop: a
transition holds the items in flight, never the thousands that ended or wait their
turn. Another workspace's runs and reads go on at their usual pace meanwhile."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from tests.tenants import other_workspace, publish_delay, timed_delay_run, timed_get
from tests.waiting import eventually
from towpath.engine.run_io import open_runs
from towpath.storage.models import ForEachItem

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings


def _loop(inner: dict[str, Any], concurrency: int = 5) -> dict[str, Any]:
    config = {"items": "{{ input.items }}", "step": inner, "concurrency": concurrency}
    return {"nodes": [node("each", "for_each", config)], "edges": []}


DOUBLE = {"type": "transform", "config": {"output": {"twice": "{{ item * 2 }}"}}}


async def _items(client: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    steps = (await client.get(f"{API}/runs/{run_id}/steps")).json()
    return sorted((s for s in steps if s["item_index"] is not None), key=lambda s: s["item_index"])


async def test_more_items_than_the_limit_fail_the_step_saying_why(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    workflow_id = await publish(client, _loop(DOUBLE))
    async with other_workspace(app) as neighbour:
        short = await publish_delay(neighbour)
        usual = await timed_delay_run(neighbour, short)

        flood = await start(client, workflow_id, {"items": list(range(100_000))})
        allowed = await start(client, workflow_id, {"items": list(range(3000))})
        during = await timed_delay_run(neighbour, short)
        read = await timed_get(neighbour)
        still_running = (await client.get(f"{API}/runs/{allowed['id']}")).json()["status"]

        refused = await wait_for(client, flood["id"], "completed", "failed")
        done = await wait_for(client, allowed["id"], "completed", "failed", seconds=120)

    assert refused["status"] == "failed"
    assert "items gave 100000 items; a for_each runs at most 10000" in refused["error"]
    assert "TOWPATH_MAX_FOR_EACH_ITEMS" in refused["error"]
    assert await _items(client, refused["id"]) == []
    assert done["status"] == "completed", done["error"]
    assert done["context"]["each"] == [{"twice": 2 * i} for i in range(3000)]
    # The other workspace's short run ran while the loop did, in about its usual time.
    assert still_running in ("running", "waiting")
    assert during < usual + 2.0, (usual, during)
    assert read < 1.0


class TestAtTheLimit:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"max_for_each_items": 5})

    async def test_the_limit_itself_is_allowed_and_one_more_is_not(
        self, client: httpx.AsyncClient
    ) -> None:
        workflow_id = await publish(client, _loop(DOUBLE, concurrency=2))

        five = await start(client, workflow_id, {"items": [1, 2, 3, 4, 5]})
        six = await start(client, workflow_id, {"items": [1, 2, 3, 4, 5, 6]})

        assert (await wait_for(client, five["id"], "completed", "failed"))["status"] == "completed"
        failed = await wait_for(client, six["id"], "completed", "failed")
        assert failed["status"] == "failed"
        assert failed["error"] == (
            "step 'each' failed: items gave 6 items; a for_each runs at most 5"
            " (TOWPATH_MAX_FOR_EACH_ITEMS)"
        )


async def _wait_for_item(client: httpx.AsyncClient, run_id: str, index: int) -> None:
    async def waits() -> bool:
        items = await _items(client, run_id)
        return len(items) > index and items[index]["status"] == "waiting"

    await eventually(waits, 15, f"item {index} waited")


async def test_a_transition_of_a_long_loop_holds_only_the_items_in_flight(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    inner = {"type": "wait_for_event", "config": {"event_name": "paid", "key": "{{ item }}"}}
    workflow_id = await publish(client, _loop(inner, concurrency=3))
    keys = [f"order-{i}" for i in range(30)]
    run = await start(client, workflow_id, {"items": keys})
    for index in range(10):
        await _wait_for_item(client, run["id"], index)
        posted = await client.post(f"{API}/events", json={"name": "paid", "key": keys[index]})
        assert posted.json()["run_ids"] == [run["id"]]
    for index in (10, 11, 12):
        await _wait_for_item(client, run["id"], index)

    driver = app.state.runtime.driver
    opened = await driver.run(partial(open_runs, driver.dialect, [run["id"]]))
    async with app.state.db.read() as session:
        waiting_turn = await session.scalar(select(func.count()).select_from(ForEachItem))

    held = sorted(row.item_index for row in opened[run["id"]].steps.values())
    assert held == [-1, 10, 11, 12]
    assert waiting_turn == 30 - 13
    items = await _items(client, run["id"])
    assert [i["status"] for i in items] == ["completed"] * 10 + ["waiting"] * 3

    for index in range(10, 30):
        await _wait_for_item(client, run["id"], index)
        await client.post(f"{API}/events", json={"name": "paid", "key": keys[index]})
    done = await wait_for(client, run["id"], "completed", "failed")
    assert done["status"] == "completed", done["error"]
    assert [o["key"] for o in done["context"]["each"]] == keys
