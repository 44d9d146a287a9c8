"""A client written from the founding document 000 alone (its paths, bodies and WebSocket
messages, its front end's paths where its inbox names them) drives a run with an approval
from start to finish; then each place where the front end's shape is not the API's."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.events.conftest import serving
from tests.factories import node
from tests.runs import wait_for
from tests.waiting import eventually
from towpath.app import create_app

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from fastapi import FastAPI
    from websockets.asyncio.client import ClientConnection

    from towpath.config import Settings

API = "/api/v1"
# React Flow's graph, as the document's editor saves it: an approval, then a step that
# reads the approval's data from the run's context.
GRAPH = {
    "nodes": [
        {
            "id": "sign_off",
            "type": "approval",
            "position": {"x": 0, "y": 0},
            "data": {"label": "Sign off", "config": {"message": "Ship {{ input.release }}?"}},
        },
        {
            "id": "announce",
            "type": "transform",
            "position": {"x": 0, "y": 120},
            "data": {
                "label": "Announce",
                "config": {"output": {"shipped": "{{ input.release }}", "ok": "{{ sign_off }}"}},
            },
        },
    ],
    "edges": [{"id": "e1", "source": "sign_off", "target": "announce"}],
}


async def published(client: httpx.AsyncClient, name: str = "release") -> str:
    """D5: create (WorkflowCreate), then publish; the WorkflowResponse's id."""
    created = await client.post(
        f"{API}/workflows", json={"name": name, "description": "", "definition": GRAPH}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert {"id", "name", "description", "version", "status", "definition"} <= set(body)
    assert body["status"] == "draft"
    done = await client.post(f"{API}/workflows/{body['id']}/publish")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "published"
    workflow_id: str = body["id"]
    return workflow_id


async def runs_of(client: httpx.AsyncClient, workflow_id: str) -> list[dict[str, Any]]:
    """The front end's list of a workflow's runs."""
    listed = await client.get(f"{API}/runs/workflow/{workflow_id}")
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()
    return found


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if message["type"] in ("snapshot", "event"):
            return message


async def test_a_run_with_an_approval_from_trigger_to_completion(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    workflow_id = await published(client)
    triggered = await client.post(
        f"{API}/runs/workflow/{workflow_id}/trigger", json={"input": {"release": "v2"}}
    )
    assert triggered.status_code == 201, triggered.text
    run = triggered.json()
    assert {"id", "workflow_id", "status", "trigger_type", "input", "context"} <= set(run)
    assert run["workflow_id"] == workflow_id
    assert run["trigger_type"] == "manual"

    async def paused() -> bool:
        listed = await runs_of(client, workflow_id)
        return [r["status"] for r in listed if r["id"] == run["id"]] == ["paused"]

    # The document's name for a run waiting on its approval: "Resume paused run".
    await eventually(paused, 15, "the run waits for its approval")
    async with (
        serving(app) as live,
        connect(f"{live.ws}/ws/runs/{run['id']}", additional_headers=auth_headers) as ws,
    ):
        # D9: the current state first, then live events.
        snapshot = await next_message(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["step_statuses"] == {"sign_off": "waiting"}
        steps = (await client.get(f"{API}/runs/{run['id']}/steps")).json()
        assert [(s["step_id"], s["status"]) for s in steps] == [("sign_off", "waiting")]
        # The front end's resume sends no body.
        resumed = await client.post(f"{API}/runs/{run['id']}/resume")
        assert resumed.status_code == 200, resumed.text
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1].get("event_type") != "run.completed":
            seen.append(await next_message(ws))
    assert all(message["type"] == "event" for message in seen)
    assert {"sign_off", "announce"} <= {m["step_id"] for m in seen if m["step_id"]}
    finished = (await client.get(f"{API}/runs/{run['id']}")).json()
    assert finished["status"] == "completed"
    assert finished["completed_at"] is not None
    # The approval's data is in the context under its step id, as downstream steps read it.
    assert finished["context"]["sign_off"]["approved"] is True
    assert finished["context"]["announce"]["shipped"] == "v2"
    replay = (await client.get(f"{API}/runs/{run['id']}/events")).json()
    assert [e["event_type"] for e in replay][-1] == "run.completed"
    assert [e["seq"] for e in replay][-len(seen) :] == [m["seq"] for m in seen]


async def test_resume_with_a_step_and_data_puts_the_data_in_the_context(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await published(client)
    body = {"input": {"release": "v3"}}
    run = (await client.post(f"{API}/workflows/{workflow_id}/run", json=body)).json()

    async def waiting() -> bool:
        found = (await client.get(f"{API}/runs/{run['id']}")).json()
        return bool(found["status"] == "waiting")

    await eventually(waiting, 15, "the run waits")
    answer = {"step_id": "sign_off", "data": {"approved": True, "comment": "ship it"}}
    resumed = await client.post(f"{API}/runs/{run['id']}/resume", json=answer)

    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["context"]["sign_off"]["comment"] == "ship it"


async def test_trigger_is_the_run_endpoint_under_the_front_ends_path(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await published(client)
    headers = {"X-Idempotency-Key": "double-click-1"}

    first = await client.post(f"{API}/runs/workflow/{workflow_id}/trigger", headers=headers)
    again = await client.post(f"{API}/runs/workflow/{workflow_id}/trigger", headers=headers)
    missing = await client.post(f"{API}/runs/workflow/{workflow_id[:-4]}0000/trigger")

    # No body is no input; the key (X-Idempotency-Key, D6) replays the run it started.
    assert first.status_code == 201, first.text
    assert first.json()["input"] == {}
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "WORKFLOW_NOT_FOUND"


async def test_a_draft_cannot_be_triggered(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/workflows", json={"name": "d", "definition": GRAPH})

    response = await client.post(f"{API}/runs/workflow/{created.json()['id']}/trigger", json={})
    missing = await client.get(f"{API}/runs/workflow/nope")
    invalid = await client.post(f"{API}/runs/workflow/x/trigger", json={"input": []})

    # "Error responses use FastAPI's HTTPException": `detail` says what went wrong.
    assert response.status_code == 409, response.text
    assert "is a draft" in response.json()["detail"]
    assert missing.status_code == 404
    assert "nope" in missing.json()["detail"]
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "input"]


async def test_the_front_ends_run_list_is_the_runs_of_one_workflow(
    client: httpx.AsyncClient,
) -> None:
    mine = await published(client, "mine")
    other = await published(client, "other")
    for workflow_id in (mine, mine, other):
        await client.post(f"{API}/runs/workflow/{workflow_id}/trigger", json={"input": {}})

    page = await client.get(f"{API}/runs/workflow/{mine}", params={"per_page": 1, "page": 2})
    everything = await runs_of(client, mine)
    unknown = await client.get(f"{API}/runs/workflow/{mine[:-4]}0000")

    assert page.status_code == 200
    assert page.headers["X-Total-Count"] == "2"
    assert len(page.json()) == 1
    assert {r["workflow_id"] for r in everything} == {mine}
    assert len(everything) == 2
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "WORKFLOW_NOT_FOUND"
    # The document's RunResponse, whole, in its list.
    assert {"input", "context", "trigger_type", "error", "started_at"} <= set(everything[0])
    assert everything[0]["input"] == {}


async def test_the_run_list_takes_dates_and_times_without_an_offset(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await published(client)
    await client.post(f"{API}/runs/workflow/{workflow_id}/trigger")
    today = datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)
    naive_now = (datetime.now(UTC) + timedelta(minutes=5)).replace(tzinfo=None).isoformat()

    def count(path: str, **params: str) -> Awaitable[httpx.Response]:
        return client.get(f"{API}/{path}", params=params)

    path = f"runs/workflow/{workflow_id}"
    on_the_day = await count(path, since=today.isoformat(), until=today.isoformat())
    later = await count(path, since=tomorrow.isoformat())
    before_now = await count(path, until=naive_now)
    assert (on_the_day.status_code, len(on_the_day.json())) == (200, 1), on_the_day.text
    assert (later.status_code, len(later.json())) == (200, 0), later.text
    assert (before_now.status_code, len(before_now.json())) == (200, 1), before_now.text
    refused = await count(f"runs/workflow/{workflow_id}", since="yesterday")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "since"]


async def test_a_runs_events_are_all_there_to_replay(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    inner = {"type": "transform", "config": {"output": {}}}
    config = {"items": "{{ input.items }}", "step": inner, "concurrency": 50}
    many = {"nodes": [node("each", "for_each", config)], "edges": []}
    workflow = await client.post(f"{API}/workflows", json={"name": "many", "definition": many})
    workflow_id = workflow.json()["id"]
    assert (await client.post(f"{API}/workflows/{workflow_id}/publish")).status_code == 200
    body = {"input": {"items": list(range(400))}}
    run = (await client.post(f"{API}/workflows/{workflow_id}/run", json=body)).json()
    await wait_for(client, run["id"], "completed", seconds=120)

    replay = await client.get(f"{API}/runs/{run['id']}/events")
    first = await client.get(f"{API}/runs/{run['id']}/events", params={"limit": 10})

    events = replay.json()
    assert len(events) > 1000
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["event_type"] == "run.completed"
    assert len(first.json()) == 10


async def test_a_published_workflow_is_not_deleted(client: httpx.AsyncClient) -> None:
    workflow_id = await published(client)

    response = await client.delete(f"{API}/workflows/{workflow_id}")

    # The document says 400; towpath's conflict status for a resource's state is 409.
    assert response.status_code == 409
    assert (await client.get(f"{API}/workflows/{workflow_id}")).status_code == 200


async def test_the_aliases_need_a_credential(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://towpath.test") as anon:
        trigger = await anon.post(f"{API}/runs/workflow/x/trigger")
        listed = await anon.get(f"{API}/runs/workflow/x")

    assert trigger.status_code == 401
    assert listed.status_code == 401


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_without_the_profile_its_paths_are_not_served(
    settings: Settings, method: str
) -> None:
    off = create_app(settings.model_copy(update={"profiles": frozenset()}))
    path = f"{API}/runs/workflow/{{workflow_id}}" + ("/trigger" if method == "POST" else "")

    async with off.router.lifespan_context(off):
        transport = httpx.ASGITransport(app=off, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as anon:
            response = await anon.request(method, path.replace("{workflow_id}", "x"))
        spec = off.openapi()

    assert response.status_code == 404
    assert path not in spec["paths"]
    assert "profile: frontend" not in {t for op in _operations(spec) for t in op["tags"]}


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in spec["paths"].values() for op in item.values()]


async def test_its_socket_takes_the_same_bearer_header_and_refuses_none(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    """The document names no credential for its socket; towpath's README has its client
    send the `Authorization: Bearer` header its HTTP calls send (a browser: a stream token
    in `?token=`). Without one the socket closes with 4401 before any message."""
    workflow_id = await published(client)
    run = (await client.post(f"{API}/runs/workflow/{workflow_id}/trigger")).json()
    async with serving(app) as live:
        async with connect(f"{live.ws}/ws/runs/{run['id']}", additional_headers=auth_headers) as ws:
            assert (await next_message(ws))["type"] == "snapshot"
        async with connect(f"{live.ws}/ws/runs/{run['id']}") as anonymous:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(anonymous.recv(), 15)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
