"""A second workspace beside the test's own, to show what one tenant does leaves the
other's requests alone."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

# A short run of the other workspace: one timer.
DELAY_SECONDS = 0.3


@asynccontextmanager
async def other_workspace(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding an admin key of another workspace of the same server."""
    issued = await issue_workspace_key(app.state.db, "neighbour", "admin", workspace="neighbour")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://towpath.test", headers=headers
    ) as client:
        yield client


async def publish_delay(client: httpx.AsyncClient) -> str:
    definition = {"nodes": [node("wait", "delay", {"seconds": DELAY_SECONDS})], "edges": []}
    return await publish(client, definition, name="short delay")


async def timed_delay_run(client: httpx.AsyncClient, workflow_id: str) -> float:
    """Seconds from starting the short run to seeing it completed."""
    began = time.monotonic()
    run = await start(client, workflow_id)
    done = await wait_for(client, run["id"], "completed", "failed", seconds=60)
    assert done["status"] == "completed", done["error"]
    return time.monotonic() - began


async def timed_get(client: httpx.AsyncClient) -> float:
    began = time.monotonic()
    response = await client.get(f"{API}/workflows")
    assert response.status_code == 200, response.text
    return time.monotonic() - began


async def in_flight(client: httpx.AsyncClient, workflow_id: str) -> int:
    total = 0
    for status in ("pending", "running", "waiting"):
        params: dict[str, Any] = {"workflow_id": workflow_id, "status": status, "per_page": 1}
        listed = await client.get(f"{API}/runs", params=params)
        total += int(listed.headers["X-Total-Count"])
    return total
