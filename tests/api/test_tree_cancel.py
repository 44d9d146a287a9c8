"""Cancelling a run's tree cancels every live run below it, those started with
`wait: false` too, even when the run itself ended long ago."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from tests.tenants import other_workspace

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

ASK = {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}


def _calls(*calls: tuple[str, bool]) -> dict[str, Any]:
    return {
        "nodes": [
            node(f"call{i}", "sub_workflow", {"workflow_id": target, "wait": wait})
            for i, (target, wait) in enumerate(calls)
        ],
        "edges": [],
    }


async def _runs(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    listed = (await client.get(f"{API}/runs", params={"per_page": 100})).json()
    return {run["id"]: (await client.get(f"{API}/runs/{run['id']}")).json() for run in listed}


async def _settled_tree(client: httpx.AsyncClient, live: int) -> dict[str, dict[str, Any]]:
    """Every run, once `live` of them wait (the tree has grown as far as it will)."""
    deadline = time.monotonic() + 15
    while True:
        runs = await _runs(client)
        if sum(run["status"] == "waiting" for run in runs.values()) == live:
            return runs
        assert time.monotonic() < deadline, [run["status"] for run in runs.values()]
        await asyncio.sleep(0.05)


async def test_a_completed_root_cancels_the_live_runs_it_left_behind(
    client: httpx.AsyncClient,
) -> None:
    leaf = await publish(client, ASK, name="leaf")
    middle = await publish(client, _calls((leaf, True), (leaf, False)), name="middle")
    root_workflow = await publish(client, _calls((middle, False), (leaf, False)), name="root")
    root = await start(client, root_workflow)
    runs = await _settled_tree(client, live=4)
    assert runs[root["id"]]["status"] == "completed"
    live = {run_id for run_id, run in runs.items() if run["status"] == "waiting"}

    plain = await client.post(f"{API}/runs/{root['id']}/cancel")
    tree = await client.post(f"{API}/runs/{root['id']}/cancel-tree", json={"reason": "runaway"})

    assert plain.status_code == 409
    assert tree.status_code == 200, tree.text
    body = tree.json()
    assert body["run"]["id"] == root["id"]
    assert body["run"]["status"] == "completed"
    assert {run["id"] for run in body["cancelled"]} == live
    after = await _runs(client)
    for run_id in live:
        assert after[run_id]["status"] == "cancelled"
        assert after[run_id]["error"] == (
            f"run {root['id']} was cancelled with the runs it started: runaway"
        )
    audit = (await client.get(f"{API}/audit", params={"resource_type": "run"})).json()
    cancels = [entry for entry in audit if entry["action"] == "run.cancel"]
    assert {entry["resource_id"] for entry in cancels} == live
    assert all(entry["after"]["tree_root_run_id"] == root["id"] for entry in cancels)
    [summary] = [entry for entry in audit if entry["action"] == "run.cancel_tree"]
    assert summary["resource_id"] == root["id"]
    assert summary["after"]["cancelled"] == len(live)


async def test_a_live_run_is_cancelled_with_its_children_and_no_one_else(
    client: httpx.AsyncClient,
) -> None:
    leaf = await publish(client, ASK, name="leaf")
    parent = await publish(client, _calls((leaf, True), (leaf, False)), name="parent")
    doomed = await start(client, parent)
    spared = await start(client, parent)
    await _settled_tree(client, live=6)

    tree = await client.post(f"{API}/runs/{doomed['id']}/cancel-tree")

    assert tree.status_code == 200, tree.text
    assert tree.json()["run"]["status"] == "cancelled"
    cancelled = {run["id"]: run for run in tree.json()["cancelled"]}
    assert len(cancelled) == 3
    assert cancelled[doomed["id"]]["depth"] == 0
    after = await _runs(client)
    children = [run for run in after.values() if run["parent_run_id"] == doomed["id"]]
    assert len(children) == 2
    assert all(run["status"] == "cancelled" for run in children)
    assert after[spared["id"]]["status"] == "waiting"
    assert sum(run["status"] == "waiting" for run in after.values()) == 3


async def test_another_workspaces_tree_is_not_found(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    run = await start(client, await publish(client, ASK))
    await wait_for(client, run["id"], "waiting")
    async with other_workspace(app) as neighbour:
        answer = await neighbour.post(f"{API}/runs/{run['id']}/cancel-tree")

    assert answer.status_code == 404
    assert answer.json()["error_code"] == "RUN_NOT_FOUND"
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "waiting"
