"""A fork that no publish check can see (the workflow to start comes from a template) is
stopped by the bound on runs per tree, and a runaway recursion by the depth bound; the
other workspace's runs and reads go on at their usual pace meanwhile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for
from tests.tenants import in_flight, other_workspace, publish_delay, timed_delay_run, timed_get
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings

TREE_LIMIT = 200
# Deep enough that the fork meets the tree bound first (2**8 > TREE_LIMIT).
DEPTH_LIMIT = 10


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"max_runs_per_tree": TREE_LIMIT, "max_sub_workflow_depth": DEPTH_LIMIT}
    )


def _fork() -> dict[str, Any]:
    """Starts the workflow its input names, twice, without waiting: given its own id, a
    fork bomb."""
    again = {"workflow_id": "{{ input.wf }}", "input": {"wf": "{{ input.wf }}"}, "wait": False}
    return {
        "nodes": [node("left", "sub_workflow", again), node("right", "sub_workflow", again)],
        "edges": [],
    }


async def _wait_until_quiet(client: httpx.AsyncClient, workflow_id: str) -> None:
    async def quiet() -> bool:
        return not await in_flight(client, workflow_id)

    await eventually(quiet, 60, "the fork stopped")


async def _runs(client: httpx.AsyncClient, workflow_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        params: dict[str, str | int] = {"workflow_id": workflow_id, "per_page": 100, "page": page}
        batch = (await client.get(f"{API}/runs", params=params)).json()
        found += batch
        if len(batch) < 100:
            return found
        page += 1


async def test_a_fork_hidden_behind_a_template_stops_at_the_tree_bound(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    bomb = await publish(client, _fork(), name="fork")
    async with other_workspace(app) as neighbour:
        short = await publish_delay(neighbour)
        usual = await timed_delay_run(neighbour, short)

        root = await start(client, bomb, {"wf": bomb})
        during = await timed_delay_run(neighbour, short)
        read = await timed_get(neighbour)
        forking = await in_flight(client, bomb)
        await _wait_until_quiet(client, bomb)

    runs = await _runs(client, bomb)
    assert len(runs) == TREE_LIMIT
    refused = [run for run in runs if run["status"] == "failed"]
    assert refused, "no fork was refused"
    assert all("TOWPATH_MAX_RUNS_PER_TREE" in (run["error"] or "") for run in refused)
    assert f"run tree {root['id']} has started {TREE_LIMIT} runs" in refused[0]["error"]
    assert all(run["status"] in ("completed", "failed") for run in runs)
    # The other workspace's short run, started as the fork began, ended while it went on,
    # in about its usual time; its read answered at once.
    assert forking > 0
    assert during < usual + 2.0, (usual, during)
    assert read < 1.0


async def test_the_fork_tree_is_visible_on_each_run(client: httpx.AsyncClient) -> None:
    bomb = await publish(client, _fork(), name="fork")
    root = await start(client, bomb, {"wf": bomb})
    await _wait_until_quiet(client, bomb)

    runs = [
        (await client.get(f"{API}/runs/{run['id']}")).json() for run in await _runs(client, bomb)
    ]

    assert {run["root_run_id"] for run in runs} == {root["id"]}
    by_id = {run["id"]: run for run in runs}
    for run in runs:
        if run["id"] == root["id"]:
            assert (run["parent_run_id"], run["depth"]) == (None, 0)
        else:
            assert run["depth"] == by_id[run["parent_run_id"]]["depth"] + 1


def _countdown(workflow_id: str) -> dict[str, Any]:
    again = {
        "workflow_id": "{{ input.wf }}",
        "input": {"n": "{{ input.n - 1 }}", "wf": "{{ input.wf }}"},
    }
    return {
        "nodes": [
            node("more", "condition", {"expression": "input.n > 0"}),
            node("again", "sub_workflow", again),
            node("done", "transform", {"output": {"n": "{{ input.n }}"}}),
        ],
        "edges": [edge("more", "again", "true"), edge("more", "done", "false")],
    }


async def test_recursion_deeper_than_the_bound_fails_saying_why(
    client: httpx.AsyncClient,
) -> None:
    created = (await client.post(f"{API}/workflows", json={"name": "countdown"})).json()
    workflow_id = created["id"]
    definition = {"definition": _countdown(workflow_id)}
    assert (await client.put(f"{API}/workflows/{workflow_id}", json=definition)).status_code == 200
    assert (await client.post(f"{API}/workflows/{workflow_id}/publish")).status_code == 200

    deep_enough = await start(client, workflow_id, {"n": DEPTH_LIMIT, "wf": workflow_id})
    too_deep = await start(client, workflow_id, {"n": DEPTH_LIMIT + 2, "wf": workflow_id})
    fine = await wait_for(client, deep_enough["id"], "completed", "failed")
    refused = await wait_for(client, too_deep["id"], "completed", "failed")

    assert fine["status"] == "completed", fine["error"]
    assert refused["status"] == "failed"
    assert "TOWPATH_MAX_SUB_WORKFLOW_DEPTH" in refused["error"]
    assert f"{DEPTH_LIMIT + 1} levels below its root run; at most {DEPTH_LIMIT}" in refused["error"]
    # Each tree ran its root and the levels below it the bound allows; none ran deeper.
    assert len(await _runs(client, workflow_id)) == 2 * (DEPTH_LIMIT + 1)
