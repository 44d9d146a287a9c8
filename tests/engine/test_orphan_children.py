"""A parent run that ends without its child leaves no child running: whether it failed on
another branch or ran out of time, its waiting child run is cancelled too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for, wait_for_step

if TYPE_CHECKING:
    import httpx

CHILD = {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}


async def _child_run(client: httpx.AsyncClient, run_id: str) -> str:
    await wait_for(client, run_id, "waiting", "failed")
    steps = await steps_by_id(client, run_id)
    child: str = steps["call"]["request"]["child_run_id"]
    return child


async def _children(client: httpx.AsyncClient, parent_run_id: str) -> list[dict[str, Any]]:
    runs = (await client.get(f"{API}/runs", params={"per_page": 100})).json()
    found = []
    for summary in runs:
        run = (await client.get(f"{API}/runs/{summary['id']}")).json()
        if run["parent_run_id"] == parent_run_id:
            found.append(run)
    return found


async def test_a_parent_that_fails_on_another_branch_cancels_its_child(
    client: httpx.AsyncClient,
) -> None:
    child_id = await publish(client, CHILD, name="child")
    parent = {
        "nodes": [
            node("call", "sub_workflow", {"workflow_id": child_id}),
            node("later", "wait_for_event", {"event_name": "go"}),
            node("boom", "transform", {"output": {"x": "{{ later.nope }}"}}),
        ],
        "edges": [edge("later", "boom")],
    }
    run = await start(client, await publish(client, parent, name="parent"))
    # The other branch fails only once the child has started, however slow the machine.
    await wait_for_step(client, run["id"], "call", "waiting")
    await wait_for_step(client, run["id"], "later", "waiting")
    posted = await client.post(f"{API}/events", json={"name": "go"})
    assert posted.json()["run_ids"] == [run["id"]], posted.text

    done = await wait_for(client, run["id"], "failed", "completed")

    assert done["status"] == "failed"
    children = await _children(client, run["id"])
    assert len(children) == 1
    # The child is cancelled right after the parent's failure is committed.
    child = await wait_for(client, children[0]["id"], "cancelled", "completed")
    assert child["status"] == "cancelled"
    assert child["error"] == f"parent run {run['id']} failed"


async def test_a_parent_that_runs_out_of_time_cancels_its_child(
    client: httpx.AsyncClient,
) -> None:
    child_id = await publish(client, CHILD, name="child")
    parent = {
        "nodes": [node("call", "sub_workflow", {"workflow_id": child_id})],
        "edges": [],
        # Long enough that a loaded machine starts the child before the run times out.
        "timeout_seconds": 3,
    }
    run = await start(client, await publish(client, parent, name="parent"))
    child_run = await _child_run(client, run["id"])

    done = await wait_for(client, run["id"], "failed", "completed")

    assert done["status"] == "failed"
    child = await wait_for(client, child_run, "cancelled", "completed")
    assert child["status"] == "cancelled"
