"""Helpers for tests that run workflows through the API."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from tests.waiting import eventually
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

API = "/api/v1"


async def publish(client: httpx.AsyncClient, definition: dict[str, Any], **fields: Any) -> str:
    body = {"name": fields.pop("name", "wf"), "definition": definition, **fields}
    created = await client.post(f"{API}/workflows", json=body)
    assert created.status_code == 201, created.text
    workflow_id: str = created.json()["id"]
    published = await client.post(f"{API}/workflows/{workflow_id}/publish")
    assert published.status_code == 200, published.text
    return workflow_id


async def start(
    client: httpx.AsyncClient, workflow_id: str, run_input: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/workflows/{workflow_id}/run", json={"input": run_input or {}}
    )
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


async def wait_for(
    client: httpx.AsyncClient, run_id: str, *statuses: str, seconds: float = 15.0
) -> dict[str, Any]:
    """Poll the run until it reaches one of `statuses`."""
    deadline = time.monotonic() + seconds
    while True:
        run: dict[str, Any] = (await client.get(f"{API}/runs/{run_id}")).json()
        if run["status"] in statuses:
            return run
        assert time.monotonic() < deadline, f"run stayed {run['status']}, wanted {statuses}"
        await asyncio.sleep(0.02)


async def wait_for_step(
    client: httpx.AsyncClient, run_id: str, step_id: str, *statuses: str, seconds: float = 15.0
) -> dict[str, Any]:
    """Poll the run's steps until `step_id` (not an item of a loop) is in one of `statuses`."""
    step: dict[str, Any] = {}

    async def reached() -> bool:
        nonlocal step
        step = (await steps_by_id(client, run_id)).get(step_id, {})
        return step.get("status") in statuses

    await eventually(reached, seconds, f"step {step_id} in {statuses}")
    return step


async def steps_by_id(client: httpx.AsyncClient, run_id: str) -> dict[str, dict[str, Any]]:
    found = (await client.get(f"{API}/runs/{run_id}/steps")).json()
    return {s["step_id"]: s for s in found if s["item_index"] is None}


async def event_types(client: httpx.AsyncClient, run_id: str) -> list[str]:
    found = (await client.get(f"{API}/runs/{run_id}/events")).json()
    seqs = [e["seq"] for e in found]
    assert seqs == list(range(1, len(seqs) + 1)), "event seq must be gap-free"
    return [e["event_type"] for e in found]


async def admin_headers(app: FastAPI) -> dict[str, str]:
    """Headers of a new admin key of the app's default workspace (the app must be running)."""
    issued = await issue_workspace_key(app.state.db, "test admin", "admin")
    return {"Authorization": f"Bearer {issued.plaintext}"}
