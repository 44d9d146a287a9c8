"""A paused workflow (every version of it) starts no run, whoever asks, until it is
unpaused: its new runs wait, pending, and start at the unpause. The way to stop a
runaway that keeps starting runs of itself."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from tests.tenants import in_flight
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx

NOOP = {"nodes": [node("t", "transform", {"output": {"ok": True}})], "edges": []}


def _caller_of(workflow_id: str) -> dict[str, Any]:
    return {"nodes": [node("call", "sub_workflow", {"workflow_id": workflow_id})], "edges": []}


async def _audit(client: httpx.AsyncClient, action: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        await client.get(f"{API}/audit", params={"action": action})
    ).json()
    return found


async def test_a_paused_workflow_starts_no_run_until_unpaused(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, NOOP)
    caller_id = await publish(client, _caller_of(workflow_id), name="caller")

    paused = await client.post(f"{API}/workflows/{workflow_id}/pause")
    queued = await start(client, workflow_id)
    by_a_step = await wait_for(client, (await start(client, caller_id))["id"], "waiting")
    await asyncio.sleep(0.3)

    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    assert (await client.get(f"{API}/workflows/{workflow_id}")).json()["paused"] is True
    assert queued["status"] == "pending"
    assert queued["waiting_for"] == {"reason": "workflow_paused"}
    assert (await client.get(f"{API}/runs/{queued['id']}")).json()["status"] == "pending"
    assert by_a_step["status"] == "waiting"

    unpaused = await client.post(f"{API}/workflows/{workflow_id}/unpause")

    assert unpaused.json()["paused"] is False
    assert (await wait_for(client, queued["id"], "completed"))["waiting_for"] is None
    assert (await wait_for(client, by_a_step["id"], "completed"))["error"] is None
    assert (await start(client, workflow_id))["status"] == "completed"
    again = await wait_for(client, (await start(client, caller_id))["id"], "completed", "failed")
    assert again["status"] == "completed", again["error"]
    [pause] = await _audit(client, "workflow.pause")
    [unpause] = await _audit(client, "workflow.unpause")
    assert pause["resource_id"] == workflow_id
    assert (pause["before"]["paused"], pause["after"]["paused"]) == (False, True)
    assert (unpause["before"]["paused"], unpause["after"]["paused"]) == (True, False)


async def test_pausing_one_version_pauses_every_version(client: httpx.AsyncClient) -> None:
    first = await publish(client, NOOP)
    second = (await client.post(f"{API}/workflows/{first}/duplicate")).json()["id"]
    assert (await client.post(f"{API}/workflows/{second}/publish")).status_code == 200

    await client.post(f"{API}/workflows/{second}/pause")
    third = (await client.post(f"{API}/workflows/{first}/duplicate")).json()

    assert (await client.get(f"{API}/workflows/{first}")).json()["paused"] is True
    assert third["paused"] is True
    for version in (first, second):
        assert (await start(client, version))["waiting_for"] == {"reason": "workflow_paused"}
    # Pausing what is paused changes nothing, and is not audited again.
    assert (await client.post(f"{API}/workflows/{first}/pause")).status_code == 200
    assert len(await _audit(client, "workflow.pause")) == 1


async def test_pausing_stops_a_runaway_that_starts_itself(client: httpx.AsyncClient) -> None:
    again = {"workflow_id": "{{ input.wf }}", "input": {"wf": "{{ input.wf }}"}, "wait": False}
    fork = {
        "nodes": [node("left", "sub_workflow", again), node("right", "sub_workflow", again)],
        "edges": [],
    }
    bomb = await publish(client, fork, name="fork")
    await start(client, bomb, {"wf": bomb})

    assert (await client.post(f"{API}/workflows/{bomb}/pause")).status_code == 200

    async def stopped() -> bool:
        return await in_flight(client, bomb) == await _waiting_for_unpause(client, bomb)

    await eventually(stopped, 30, "the runaway stopped")

    # What it started since waits for the unpause, and starts nothing meanwhile.
    waiting = await _waiting_for_unpause(client, bomb)
    assert waiting
    await asyncio.sleep(0.3)
    assert await in_flight(client, bomb) == waiting


async def _waiting_for_unpause(client: httpx.AsyncClient, workflow_id: str) -> int:
    params: dict[str, Any] = {"workflow_id": workflow_id, "status": "pending", "per_page": 100}
    pending = (await client.get(f"{API}/runs", params=params)).json()
    assert all(run["waiting_for"] == {"reason": "workflow_paused"} for run in pending)
    return len(pending)
