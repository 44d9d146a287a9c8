"""Sub-workflows of sub-workflows: outputs travel up the chain, a cancel travels down it,
and a child's end answers exactly its own parent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx


async def _chain(client: httpx.AsyncClient, leaf: dict[str, Any]) -> str:
    """top -> middle -> leaf, each passing its input down and its output up."""
    leaf_id = await publish(client, leaf, name="leaf")
    middle = {
        "nodes": [
            node("call", "sub_workflow", {"workflow_id": leaf_id, "input": {"n": "{{ input.n }}"}}),
            node("pass", "transform", {"output": {"got": "{{ call.output }}"}}),
        ],
        "edges": [edge("call", "pass")],
    }
    middle_id = await publish(client, middle, name="middle")
    call_middle = {"workflow_id": middle_id, "input": {"n": "{{ input.n }}"}}
    top = {"nodes": [node("call", "sub_workflow", call_middle)], "edges": []}
    return await publish(client, top, name="top")


async def _child_of(client: httpx.AsyncClient, run_id: str) -> str:
    steps = await steps_by_id(client, run_id)
    child: str = (steps["call"]["request"] or {})["child_run_id"]
    return child


async def test_a_grandchilds_output_reaches_the_top(client: httpx.AsyncClient) -> None:
    leaf = {"nodes": [node("sq", "transform", {"output": {"sq": "{{ input.n * input.n }}"}})]}
    top_id = await _chain(client, {**leaf, "edges": []})

    run = await start(client, top_id, {"n": 7})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    middle_out = done["context"]["call"]["output"]
    assert middle_out["pass"] == {"got": {"sq": {"sq": 49}}}
    await event_types(client, run["id"])


async def _waiting_chain(client: httpx.AsyncClient) -> tuple[dict[str, Any], str, str]:
    """A run of top -> middle -> leaf, the leaf waiting for an approval."""
    leaf = {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}
    top_id = await _chain(client, leaf)
    run = await start(client, top_id, {"n": 1})
    await wait_for(client, run["id"], "waiting")
    middle_run = await _child_of(client, run["id"])
    await wait_for(client, middle_run, "waiting")
    leaf_run = await _child_of(client, middle_run)
    await wait_for(client, leaf_run, "waiting")
    return run, middle_run, leaf_run


async def test_cancelling_the_top_cancels_every_descendant(client: httpx.AsyncClient) -> None:
    run, middle_run, leaf_run = await _waiting_chain(client)

    cancelled = await client.post(f"{API}/runs/{run['id']}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    for run_id in (run["id"], middle_run, leaf_run):
        assert (await client.get(f"{API}/runs/{run_id}")).json()["status"] == "cancelled"
        await event_types(client, run_id)


async def test_a_cancelled_grandchild_fails_the_chain_above_it(client: httpx.AsyncClient) -> None:
    run, middle_run, leaf_run = await _waiting_chain(client)

    assert (await client.post(f"{API}/runs/{leaf_run}/cancel")).status_code == 200

    middle = await wait_for(client, middle_run, "failed", "completed", "cancelled")
    top = await wait_for(client, run["id"], "failed", "completed", "cancelled")
    assert middle["status"] == "failed"
    assert top["status"] == "failed"
    assert "cancelled" in middle["error"]
