"""A workflow's concurrency limit per key: runs past it wait their turn, are cancelled,
or cancel the oldest, as the workflow says."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.factories import node
from tests.flow.conftest import approve, held, per_customer, run_of
from tests.runs import API, event_types, publish, start, wait_for

if TYPE_CHECKING:
    import httpx


async def test_a_full_key_queues_its_runs_until_a_slot_frees(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, held(concurrency=per_customer()))

    first = await start(client, workflow_id, {"customer": "acme"})
    await wait_for(client, first["id"], "waiting")
    second = await start(client, workflow_id, {"customer": "acme"})
    other = await start(client, workflow_id, {"customer": "globex"})
    listed = (await client.get(f"{API}/runs", params={"status": "pending"})).json()

    assert second["status"] == "pending"
    assert second["waiting_for"] == {"reason": "concurrency", "key": "acme"}
    assert [r["id"] for r in listed] == [second["id"]]
    assert listed[0]["waiting_for"] == {"reason": "concurrency", "key": "acme"}
    assert (await wait_for(client, other["id"], "waiting"))["waiting_for"] is None

    await approve(client, first["id"])

    started = await wait_for(client, second["id"], "waiting")
    assert started["waiting_for"] is None
    assert started["started_at"] is not None
    assert (await run_of(client, first["id"]))["status"] == "completed"
    history = await event_types(client, second["id"])
    assert history[:4] == ["run.created", "run.queued", "run.started", "step.queued"]


async def test_cancelling_a_queued_run_keeps_the_line_moving(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, held(concurrency=per_customer()))
    first = await start(client, workflow_id, {"customer": "acme"})
    second = await start(client, workflow_id, {"customer": "acme"})
    third = await start(client, workflow_id, {"customer": "acme"})

    cancelled = await client.post(f"{API}/runs/{second['id']}/cancel", json={})
    await approve(client, (await wait_for(client, first["id"], "waiting"))["id"])

    assert cancelled.json()["status"] == "cancelled"
    assert (await wait_for(client, third["id"], "waiting"))["waiting_for"] is None


async def test_cancel_newest_cancels_the_run_that_finds_its_key_full(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, held(concurrency=per_customer(on_full="cancel_newest")))
    first = await start(client, workflow_id, {"customer": "acme"})

    second = await start(client, workflow_id, {"customer": "acme"})

    assert second["status"] == "cancelled"
    assert "cancel_newest" in second["error"]
    assert second["started_at"] is None
    assert (await wait_for(client, first["id"], "waiting"))["status"] == "waiting"
    assert await event_types(client, second["id"]) == ["run.created", "run.cancelled"]


async def test_cancel_oldest_makes_room_for_the_new_run(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, held(concurrency=per_customer(on_full="cancel_oldest")))
    first = await start(client, workflow_id, {"customer": "acme"})
    await wait_for(client, first["id"], "waiting")

    second = await start(client, workflow_id, {"customer": "acme"})

    assert second["status"] in ("running", "waiting")
    old = await run_of(client, first["id"])
    assert old["status"] == "cancelled"
    assert "cancel_oldest" in old["error"]
    assert (await wait_for(client, second["id"], "waiting"))["waiting_for"] is None


async def test_a_key_that_does_not_render_for_an_input_is_refused(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, held(concurrency=per_customer()))

    refused = await client.post(f"{API}/workflows/{workflow_id}/run", json={"input": {}})

    assert refused.status_code == 422, refused.text
    assert refused.json()["error_code"] == "CONCURRENCY_KEY_INVALID"
    assert (await client.get(f"{API}/runs")).json() == []


async def test_a_sub_workflow_step_is_refused_where_cancel_newest_would_cancel_its_run(
    client: httpx.AsyncClient,
) -> None:
    child = await publish(client, held(concurrency={"limit": 1, "on_full": "cancel_newest"}))
    calling = {"nodes": [node("call", "sub_workflow", {"workflow_id": child})], "edges": []}
    parent_id = await publish(client, calling, name="parent")
    holder = await wait_for(client, (await start(client, child))["id"], "waiting")

    parent = await wait_for(client, (await start(client, parent_id))["id"], "failed")

    assert "cancel_newest" in parent["error"]
    assert (await run_of(client, holder["id"]))["status"] == "waiting"


async def test_cancel_oldest_takes_the_cancelled_runs_children_and_spares_sub_runs(
    client: httpx.AsyncClient,
) -> None:
    inner = await publish(client, held(), name="inner")
    calling = {
        "nodes": [node("call", "sub_workflow", {"workflow_id": inner})],
        "edges": [],
        "concurrency": {"limit": 1, "on_full": "cancel_oldest"},
    }
    outer = await publish(client, calling, name="outer")
    first = await wait_for(client, (await start(client, outer))["id"], "waiting")
    [child] = (await client.get(f"{API}/runs", params={"workflow_id": inner})).json()

    await start(client, outer)

    assert (await run_of(client, first["id"]))["status"] == "cancelled"
    assert (await wait_for(client, child["id"], "cancelled"))["status"] == "cancelled"


async def test_cancel_oldest_leaves_a_run_a_parent_waits_for_and_queues_instead(
    client: httpx.AsyncClient,
) -> None:
    limited = await publish(client, held(concurrency={"limit": 1, "on_full": "cancel_oldest"}))
    calling = {"nodes": [node("call", "sub_workflow", {"workflow_id": limited})], "edges": []}
    parent = await wait_for(
        client, (await start(client, await publish(client, calling)))["id"], "waiting"
    )
    [listed] = (await client.get(f"{API}/runs", params={"workflow_id": limited})).json()
    held_run = await wait_for(client, listed["id"], "waiting")

    newer = await start(client, limited)

    assert newer["status"] == "pending"
    assert newer["waiting_for"] == {"reason": "concurrency", "key": ""}
    assert (await run_of(client, held_run["id"]))["status"] == "waiting"
    assert (await run_of(client, parent["id"]))["status"] == "waiting"


async def test_a_retry_waits_for_a_free_slot_of_its_key(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, held(concurrency=per_customer()))
    first = await start(client, workflow_id, {"customer": "acme"})
    await wait_for(client, first["id"], "waiting")
    second = await start(client, workflow_id, {"customer": "acme"})
    rejected = await client.post(f"{API}/runs/{first['id']}/approve", json={"approved": False})
    assert rejected.status_code == 200, rejected.text
    await wait_for(client, first["id"], "failed")
    await wait_for(client, second["id"], "waiting")

    refused = await client.post(f"{API}/runs/{first['id']}/retry")

    assert refused.status_code == 409
    assert refused.json()["error_code"] == "CONCURRENCY_LIMIT_REACHED"
    assert refused.json()["details"] == {"key": "acme", "limit": 1, "on_full": "queue"}
    assert (await run_of(client, first["id"]))["status"] == "failed"
    await approve(client, second["id"])
    retried = await client.post(f"{API}/runs/{first['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert (await wait_for(client, first["id"], "waiting"))["status"] == "waiting"
