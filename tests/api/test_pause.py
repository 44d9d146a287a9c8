"""A paused workflow (every version of it) starts no run, whoever asks, until it is
unpaused: the way to stop a runaway that keeps starting runs of itself."""

from __future__ import annotations

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
    refused = await client.post(f"{API}/workflows/{workflow_id}/run", json={"input": {}})
    by_a_step = await wait_for(
        client, (await start(client, caller_id))["id"], "completed", "failed"
    )

    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    assert (await client.get(f"{API}/workflows/{workflow_id}")).json()["paused"] is True
    assert refused.status_code == 409
    assert refused.json()["error_code"] == "WORKFLOW_PAUSED"
    assert refused.json()["details"] == {"id": workflow_id, "paused": True}
    assert by_a_step["status"] == "failed"
    assert f"workflow {workflow_id!r} is paused" in by_a_step["error"]

    unpaused = await client.post(f"{API}/workflows/{workflow_id}/unpause")

    assert unpaused.json()["paused"] is False
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
        started = await client.post(f"{API}/workflows/{version}/run", json={"input": {}})
        assert started.status_code == 409
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
        return not await in_flight(client, bomb)

    await eventually(stopped, 30, "the runaway stopped")

    failed = (
        await client.get(f"{API}/runs", params={"workflow_id": bomb, "status": "failed"})
    ).json()
    assert failed
    assert all(f"workflow {bomb!r} is paused" in run["error"] for run in failed)
