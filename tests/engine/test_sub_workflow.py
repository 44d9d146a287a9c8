"""sub_workflow starts a run of another published workflow and waits for its result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx

CHILD = {
    "nodes": [node("shout", "transform", {"output": {"loud": "{{ input.word | upper }}"}})],
    "edges": [],
}


def _parent(child_id: str, **extra: object) -> dict[str, object]:
    config = {"workflow_id": child_id, "input": {"word": "{{ input.word }}"}, **extra}
    return {
        "nodes": [
            node("call", "sub_workflow", config),
            node("use", "transform", {"output": {"got": "{{ call.output.shout.loud }}"}}),
        ],
        "edges": [edge("call", "use")],
    }


async def test_the_parent_waits_and_uses_the_childs_output(client: httpx.AsyncClient) -> None:
    child_id = await publish(client, CHILD, name="child")
    parent_id = await publish(client, _parent(child_id), name="parent")

    run = await start(client, parent_id, {"word": "hey"})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done
    assert done["context"]["use"] == {"got": "HEY"}
    child_run_id = done["context"]["call"]["run_id"]
    child = (await client.get(f"{API}/runs/{child_run_id}")).json()
    assert child["trigger_type"] == "sub_workflow"
    assert child["parent_run_id"] == run["id"]


async def test_a_failed_child_fails_the_parent(client: httpx.AsyncClient) -> None:
    broken = {
        "nodes": [node("bad", "transform", {"output": {"x": "{{ input.nothing.here }}"}})],
        "edges": [],
    }
    child_id = await publish(client, broken, name="child")
    parent_id = await publish(client, _parent(child_id), name="parent")

    done = await wait_for(
        client, (await start(client, parent_id, {"word": "x"}))["id"], "completed", "failed"
    )

    assert done["status"] == "failed"
    assert "sub-workflow" in done["error"]


async def test_a_draft_child_fails_the_step(client: httpx.AsyncClient) -> None:
    draft = (await client.post(f"{API}/workflows", json={"name": "d", "definition": CHILD})).json()
    parent_id = await publish(client, _parent(draft["id"]), name="parent")

    done = await wait_for(
        client, (await start(client, parent_id, {"word": "x"}))["id"], "completed", "failed"
    )

    assert done["status"] == "failed"
    assert "publish" in done["error"]


async def test_cancelling_the_parent_cancels_the_child(client: httpx.AsyncClient) -> None:
    waiting_child = {
        "nodes": [node("ask", "approval", {"message": "ok?"})],
        "edges": [],
    }
    child_id = await publish(client, waiting_child, name="child")
    parent_id = await publish(client, _parent(child_id), name="parent")
    run = await start(client, parent_id, {"word": "x"})
    children: list[dict[str, Any]] = []

    async def child_waits() -> bool:
        nonlocal children
        children = (await client.get(f"{API}/runs", params={"workflow_id": child_id})).json()
        return bool(children) and children[0]["status"] == "waiting"

    await eventually(child_waits, what="the child run waiting for its approval")

    cancelled = await client.post(f"{API}/runs/{run['id']}/cancel")

    assert cancelled.json()["status"] == "cancelled"
    child = (await client.get(f"{API}/runs/{children[0]['id']}")).json()
    assert child["status"] == "cancelled"
