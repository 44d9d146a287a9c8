"""Workflows with flow control, and the runs they hold back, through the HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.factories import node
from tests.runs import API, admin_headers
from towpath.app import create_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from towpath.config import Settings


@pytest.fixture
async def idle(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A server without a worker, and its client: ready steps wait for the test's claims."""
    app = create_app(settings.model_copy(update={"run_worker": False}))
    async with app.router.lifespan_context(app):
        admin = await admin_headers(app)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://idle", headers=admin
        )
        async with client:
            yield app, client


def held(**flow: Any) -> dict[str, Any]:
    """A run that holds its slot until its approval is decided."""
    return {"nodes": [node("review", "approval", {"message": "go?"})], "edges": [], **flow}


def quick(**flow: Any) -> dict[str, Any]:
    return {"nodes": [node("t", "transform", {"output": {"ok": True}})], "edges": [], **flow}


def per_customer(limit: int = 1, on_full: str = "queue") -> dict[str, Any]:
    return {"limit": limit, "key": "{{ input.customer }}", "on_full": on_full}


async def run_of(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await client.get(f"{API}/runs/{run_id}")).json()
    return found


async def approve(client: httpx.AsyncClient, run_id: str) -> None:
    answered = await client.post(f"{API}/runs/{run_id}/approve", json={"approved": True})
    assert answered.status_code == 200, answered.text
