"""Runs in flight (pending, running, waiting, paused) are bounded per workspace and per workflow:
a start past a bound is answered 429 with Retry-After, and a sub_workflow step that
would pass one fails; other workspaces keep their own room."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from tests.tenants import other_workspace

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings

PER_WORKFLOW = 2
PER_WORKSPACE = 3
ASK = {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "max_runs_in_flight_per_workflow": PER_WORKFLOW,
            "max_runs_in_flight_per_workspace": PER_WORKSPACE,
        }
    )


async def _waiting_run(client: httpx.AsyncClient, workflow_id: str) -> str:
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "waiting")
    run_id: str = run["id"]
    return run_id


async def _try(client: httpx.AsyncClient, workflow_id: str) -> httpx.Response:
    return await client.post(f"{API}/workflows/{workflow_id}/run", json={"input": {}})


async def test_a_start_past_the_workflows_bound_is_429_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    ask = await publish(client, ASK)
    first = await _waiting_run(client, ask)
    await _waiting_run(client, ask)

    refused = await _try(client, ask)

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "5"
    body = refused.json()
    assert body["error_code"] == "RUNS_IN_FLIGHT_LIMIT"
    assert body["details"] == {
        "limit": "runs_in_flight_per_workflow",
        "max": PER_WORKFLOW,
        "count": PER_WORKFLOW,
        "retry_after_seconds": 5,
    }
    assert "TOWPATH_MAX_RUNS_IN_FLIGHT_PER_WORKFLOW" in body["message"]
    assert body["request_id"]
    # Every version of the workflow shares its bound.
    newer = (await client.post(f"{API}/workflows/{ask}/duplicate")).json()["id"]
    assert (await client.post(f"{API}/workflows/{newer}/publish")).status_code == 200
    assert (await _try(client, newer)).status_code == 429
    # A run that ends makes room.
    assert (await client.post(f"{API}/runs/{first}/cancel")).status_code == 200
    assert (await _try(client, ask)).status_code == 201


async def test_a_paused_run_still_holds_its_place_in_flight(client: httpx.AsyncClient) -> None:
    ask = await publish(client, ASK)
    paused = [await _waiting_run(client, ask) for _ in range(PER_WORKFLOW)]
    for run_id in paused:
        assert (await client.post(f"{API}/runs/{run_id}/pause", json={})).status_code == 200

    # Pausing is no way around the bound: the paused runs come back when unpaused.
    assert (await _try(client, ask)).status_code == 429
    assert (await client.post(f"{API}/runs/{paused[0]}/cancel")).status_code == 200
    assert (await _try(client, ask)).status_code == 201


async def test_a_start_past_the_workspaces_bound_is_429_and_others_keep_their_room(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ask, other = await publish(client, ASK), await publish(client, ASK)
    await _waiting_run(client, ask)
    await _waiting_run(client, ask)
    await _waiting_run(client, other)

    refused = await _try(client, other)

    assert refused.status_code == 429
    assert refused.json()["details"]["limit"] == "runs_in_flight_per_workspace"
    assert refused.json()["details"]["count"] == PER_WORKSPACE
    async with other_workspace(app) as neighbour:
        theirs = await publish(neighbour, ASK)
        assert (await _try(neighbour, theirs)).status_code == 201


async def test_a_sub_workflow_past_the_bound_fails_its_step(client: httpx.AsyncClient) -> None:
    ask = await publish(client, ASK)
    await _waiting_run(client, ask)
    await _waiting_run(client, ask)
    parent = {"nodes": [node("call", "sub_workflow", {"workflow_id": ask})], "edges": []}

    run = await start(client, await publish(client, parent))
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert f"could not start workflow {ask!r}: this workspace has 3 runs" in done["error"]
    assert "TOWPATH_MAX_RUNS_IN_FLIGHT_PER_WORKSPACE" in done["error"]


class TestConcurrentStarts:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        limits = {"max_runs_in_flight_per_workflow": 5, "max_runs_in_flight_per_workspace": 100}
        return settings.model_copy(update=limits)

    async def test_starts_at_once_pass_the_bound_by_no_more_than_those_in_flight(
        self, client: httpx.AsyncClient, database_url: str
    ) -> None:
        ask = await publish(client, ASK)

        answers = await asyncio.gather(*(_try(client, ask) for _ in range(30)))

        codes: dict[int, Any] = {}
        for answer in answers:
            codes[answer.status_code] = codes.get(answer.status_code, 0) + 1
        assert set(codes) <= {201, 429}
        if database_url.startswith("sqlite"):
            # One writer: the bound is exact.
            assert codes[201] == 5
        else:
            # Starts that commit at the same moment may each see room: at most one more
            # per other start transaction in flight at once (the engine's pool holds 10).
            assert 5 <= codes[201] <= 5 + 9


async def test_a_retry_past_the_workspaces_bound_is_429_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    ask = await publish(client, ASK)
    other = await publish(client, ASK)
    ended = await _waiting_run(client, ask)
    assert (await client.post(f"{API}/runs/{ended}/cancel")).status_code == 200
    for workflow_id in (ask, other, other):
        await _waiting_run(client, workflow_id)

    planned = await client.post(f"{API}/runs/{ended}/retry?dry_run=true", json={"from_step": "ask"})
    refused = await client.post(f"{API}/runs/{ended}/retry", json={"from_step": "ask"})

    # A retried run is in flight again, as a started one is.
    assert planned.status_code == 429, planned.text
    assert refused.status_code == 429, refused.text
    assert refused.json()["details"]["limit"] == "runs_in_flight_per_workspace"
    assert (await client.get(f"{API}/runs/{ended}")).json()["status"] == "cancelled"
    in_flight = await client.get(f"{API}/runs", params={"status": "waiting"})
    assert in_flight.headers["X-Total-Count"] == str(PER_WORKSPACE)
