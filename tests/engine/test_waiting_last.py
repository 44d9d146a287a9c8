"""A run whose last step waits completes when that step is answered: the run goes from
waiting back to running, then to completed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API, event_types, publish, start, wait_for

if TYPE_CHECKING:
    import httpx


def _alone(step_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": [node("only", step_type, config)], "edges": []}


ANSWERS: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("approval", {"message": "ok?"}, "approve", {"approved": True, "comment": "fine"}),
    (
        "clarification",
        {"questions": [{"id": "size", "text": "Which size?"}]},
        "clarify",
        {"answers": {"size": "L"}},
    ),
    ("approval", {"message": "ok?"}, "resume", {"data": {"by": "hand"}}),
]


@pytest.mark.parametrize(("step_type", "config", "action", "body"), ANSWERS)
async def test_answering_the_last_step_completes_the_run(
    client: httpx.AsyncClient,
    step_type: str,
    config: dict[str, Any],
    action: str,
    body: dict[str, Any],
) -> None:
    run = await start(client, await publish(client, _alone(step_type, config)))
    await wait_for(client, run["id"], "waiting")

    answered = await client.post(f"{API}/runs/{run['id']}/{action}", json=body)

    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "completed"
    types = await event_types(client, run["id"])
    assert types[-3:] == ["step.completed", "run.resumed", "run.completed"]


async def test_an_event_answers_the_last_step(client: httpx.AsyncClient) -> None:
    definition = _alone("wait_for_event", {"event_name": "paid", "key": "{{ input.order }}"})
    run = await start(client, await publish(client, definition), {"order": "42"})
    await wait_for(client, run["id"], "waiting")

    posted = await client.post(f"{API}/events", json={"name": "paid", "key": "42", "data": {}})

    assert posted.json()["run_ids"] == [run["id"]]
    done = await wait_for(client, run["id"], "completed", "failed")
    assert done["status"] == "completed", done


async def test_a_parent_whose_last_step_is_the_child_completes(
    client: httpx.AsyncClient,
) -> None:
    child = _alone("approval", {"message": "child ok?"})
    child_id = await publish(client, child, name="child")
    parent = _alone("sub_workflow", {"workflow_id": child_id, "input": {}})
    run = await start(client, await publish(client, parent, name="parent"))
    await wait_for(client, run["id"], "waiting")
    children = (await client.get(f"{API}/runs", params={"workflow_id": child_id})).json()
    await wait_for(client, children[0]["id"], "waiting")

    approved = await client.post(f"{API}/runs/{children[0]['id']}/approve", json={"approved": True})

    assert approved.status_code == 200, approved.text
    done = await wait_for(client, run["id"], "completed", "failed")
    assert done["status"] == "completed", done
    assert done["context"]["only"]["output"]["only"]["approved"] is True
