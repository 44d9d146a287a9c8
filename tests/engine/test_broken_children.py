"""A child workflow whose input_schema cannot be checked fails the parent's step; the
worker goes on with every other run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for, wait_for_step

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer

DANGLING = {"$ref": "#/$defs/missing"}
ONE_STEP = {"nodes": [node("a", "transform", {"output": {"ok": True}})], "edges": []}


async def _parent_of_a_dangling_child(client: httpx.AsyncClient) -> str:
    child = {"name": "child", "definition": ONE_STEP, "input_schema": DANGLING}
    child_id = (await client.post(f"{API}/workflows", json=child)).json()["id"]
    # Published as the API allows today; were it refused, the parent's step would fail
    # for a draft child, which these tests accept too.
    await client.post(f"{API}/workflows/{child_id}/publish")
    parent = {
        "nodes": [
            node("call", "sub_workflow", {"workflow_id": child_id}),
            node("after", "transform", {"output": {"x": 1}}),
        ],
        "edges": [edge("call", "after")],
    }
    return await publish(client, parent, name="parent")


async def test_a_child_with_a_dangling_ref_fails_the_parents_step(
    client: httpx.AsyncClient,
) -> None:
    run = await start(client, await _parent_of_a_dangling_child(client))

    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "call" in done["error"]


async def test_a_child_with_a_dangling_ref_does_not_stop_other_runs(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    parent_id = await _parent_of_a_dangling_child(client)
    other = {"nodes": [node("get", "http_request", {"url": f"{echo_server.url}/echo"})]}
    other_id = await publish(client, {**other, "edges": []}, name="other")
    first = await start(client, parent_id)
    # The parent's step has been executed and its failure applied.
    await wait_for_step(client, first["id"], "call", "failed")

    later = await start(client, other_id)
    finished = await wait_for(client, later["id"], "completed", "failed")

    assert finished["status"] == "completed", finished["error"]
