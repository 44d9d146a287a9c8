"""A client written from the founding document 003 (its agents, workflows, runs and system
paths) drives a run with an approval from start to finish. The document names no way to
answer a human step nor a WebSocket, so those two are towpath's own
(`POST /api/v1/runs/{id}/approve`, `WS /ws/runs/{id}`); then its differences one by one."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
from websockets.asyncio.client import connect

from tests.events.conftest import serving
from tests.waiting import eventually
from towpath.app import create_app
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from fastapi import FastAPI
    from websockets.asyncio.client import ClientConnection

    from towpath.config import Settings

API = "/api/v1"
STEPS = {
    "nodes": [
        {
            "id": "review",
            "type": "approval",
            "position": {"x": 0, "y": 0},
            "data": {"label": "review", "config": {"message": "Deploy {{ input.service }}?"}},
        },
        {
            "id": "deploy",
            "type": "transform",
            "position": {"x": 0, "y": 100},
            "data": {"label": "deploy", "config": {"output": {"done": "{{ input.service }}"}}},
        },
    ],
    "edges": [{"id": "review-deploy", "source": "review", "target": "deploy"}],
}


async def workflow(client: httpx.AsyncClient, name: str = "deploy") -> dict[str, Any]:
    created = await client.post(f"{API}/workflows", json={"name": name, "definition": STEPS})
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


async def execute(client: httpx.AsyncClient, workflow_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"{API}/workflows/{workflow_id}/execute", json=body)


async def status_is(client: httpx.AsyncClient, run_id: str, status: str) -> None:
    async def reached() -> bool:
        return bool((await client.get(f"{API}/runs/{run_id}")).json()["status"] == status)

    await eventually(reached, 15, f"run {run_id} {status}")


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if message["type"] in ("snapshot", "event"):
            return message


async def test_agents_workflows_and_a_run_with_an_approval(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    async with serving(app) as live:
        # Agent management, its health checked against a real local endpoint.
        agent = {"name": "builder", "url": f"{live.http}/health", "kind": "http"}
        made = await client.post(f"{API}/agents", json=agent)
        assert made.status_code == 201, made.text
        agent_id = made.json()["id"]
        changed = await client.put(
            f"{API}/agents/{agent_id}", json={**agent, "description": "builds images"}
        )
        assert changed.json()["description"] == "builds images"
        assert [a["id"] for a in (await client.get(f"{API}/agents")).json()] == [agent_id]
        assert (await client.get(f"{API}/agents/{agent_id}")).json()["name"] == "builder"
        health = await client.get(f"{API}/agents/{agent_id}/health")
        assert health.status_code == 200, health.text

        # A workflow, executed as it is: no publishing step in this document.
        flow = await workflow(client)
        started = await execute(client, flow["id"], input_data={"service": "api"})
        assert started.status_code == 201, started.text
        run = started.json()
        assert run["input"] == {"service": "api"}
        assert run["triggered_by"]
        await status_is(client, run["id"], "waiting")
        async with connect(f"{live.ws}/ws/runs/{run['id']}", additional_headers=auth_headers) as ws:
            snapshot = await next_message(ws)
            assert snapshot["step_statuses"] == {"review": "waiting"}
            answered = await client.post(f"{API}/runs/{run['id']}/approve", json={"approved": True})
            assert answered.status_code == 200, answered.text
            events = [await next_message(ws)]
            while events[-1]["event_type"] != "run.completed":
                events.append(await next_message(ws))

        done = (await client.get(f"{API}/runs/{run['id']}")).json()
        assert done["status"] == "completed"
        assert done["context"]["deploy"] == {"done": "api"}
        assert done["triggered_by"] == run["triggered_by"]
        steps = (await client.get(f"{API}/runs/{run['id']}/steps")).json()
        assert [(s["step_id"], s["status"]) for s in steps] == [
            ("review", "completed"),
            ("deploy", "completed"),
        ]
        listed = await client.get(
            f"{API}/runs", params={"workflow_id": flow["id"], "status": "completed"}
        )
        assert [(r["id"], r["triggered_by"]) for r in listed.json()] == [
            (run["id"], run["triggered_by"])
        ]
        assert listed.headers["X-Total-Count"] == "1"

        # Updating makes the next version; executing runs it; cancelling stops it.
        updated = await client.put(f"{API}/workflows/{flow['id']}", json={"name": "deploy v2"})
        assert updated.status_code == 200, updated.text
        assert updated.json()["version"] == 2
        versions = (await client.get(f"{API}/workflows/{flow['id']}/versions")).json()
        assert [v["version"] for v in versions] == [1, 2]
        second = (await execute(client, flow["id"], input_data={"service": "web"})).json()
        assert second["workflow_id"] == updated.json()["id"]
        await status_is(client, second["id"], "waiting")
        cancelled = await client.post(f"{API}/runs/{second['id']}/cancel")
        assert cancelled.json()["status"] == "cancelled"

        gone = await client.delete(f"{API}/agents/{agent_id}")
        assert gone.status_code == 204
        assert (await client.get(f"{API}/agents/{agent_id}")).status_code == 404
        for path in ("/health", "/health/ready", "/metrics", "/docs", "/redoc"):
            assert (await client.get(path)).status_code == 200, path


async def test_updating_a_draft_keeps_its_version(client: httpx.AsyncClient) -> None:
    flow = await workflow(client)

    updated = await client.put(f"{API}/workflows/{flow['id']}", json={"description": "d"})

    assert updated.json()["id"] == flow["id"]
    assert updated.json()["version"] == 1


async def test_each_update_of_a_published_version_makes_the_next_one(
    client: httpx.AsyncClient,
) -> None:
    flow = await workflow(client)
    await execute(client, flow["id"], input_data={"service": "x"})

    second = (await client.put(f"{API}/workflows/{flow['id']}", json={"name": "b"})).json()
    third = (await client.put(f"{API}/workflows/{flow['id']}", json={"name": "c"})).json()
    first = (await client.get(f"{API}/workflows/{flow['id']}")).json()

    assert (second["version"], third["version"]) == (2, 3)
    assert {second["status"], third["status"]} == {"draft"}
    assert (first["name"], first["status"]) == ("deploy", "published")


async def test_execute_replays_a_key_and_refuses_what_cannot_run(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await workflow(client)
    # A draft may be unfinished; it does not validate, so it cannot be published.
    edge = {"id": "e", "source": "a", "target": "b"}
    broken = await client.post(
        f"{API}/workflows",
        json={"name": "broken", "definition": {"nodes": [], "edges": [edge]}},
    )
    assert broken.status_code == 201, broken.text
    operator = (await issue_workspace_key(app.state.db, "op", "operator")).plaintext
    draft = await workflow(client, "still a draft")

    first = await execute(client, flow["id"], input_data={"service": "a"}, idempotency_key="k1")
    again = await execute(client, flow["id"], input_data={"service": "a"}, idempotency_key="k1")
    refused = await client.post(
        f"{API}/workflows/{draft['id']}/execute",
        json={"input_data": {"service": "a"}},
        headers={"Authorization": f"Bearer {operator}"},
    )
    unknown = await execute(client, flow["id"][:-4] + "0000")

    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    # Publishing a draft is an editor's.
    assert refused.status_code == 403
    assert refused.json()["details"] == {"required_role": "editor", "role": "operator"}
    assert unknown.status_code == 404
    invalid = await execute(client, broken.json()["id"])
    assert invalid.status_code == 422, invalid.text
    assert invalid.json()["error_code"] == "WORKFLOW_INVALID"


async def test_another_workspace_cannot_execute_ours(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await workflow(client)
    theirs = (await issue_workspace_key(app.state.db, "t", "admin", workspace="theirs")).plaintext

    response = await client.post(
        f"{API}/workflows/{flow['id']}/execute", headers={"Authorization": f"Bearer {theirs}"}
    )

    assert response.status_code == 404
    assert (await client.get(f"{API}/workflows/{flow['id']}")).json()["status"] == "draft"


async def test_without_the_profile_execute_is_not_served(settings: Settings) -> None:
    off = create_app(settings.model_copy(update={"profiles": frozenset()}))

    async with off.router.lifespan_context(off):
        transport = httpx.ASGITransport(app=off, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as anon:
            response = await anon.post(f"{API}/workflows/x/execute")
        spec = off.openapi()

    assert response.status_code == 404
    assert f"{API}/workflows/{{workflow_id}}/execute" not in spec["paths"]
