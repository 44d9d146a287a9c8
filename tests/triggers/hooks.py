"""Helpers for webhook tests: a published workflow, a trigger, signed deliveries."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any

import httpx

from tests.factories import node
from tests.runs import API, publish
from towpath.triggers.signatures import sign_standard

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

ECHO = {"nodes": [node("echo", "transform", {"output": {"seen": "{{ input }}"}})], "edges": []}


async def make_trigger(
    client: httpx.AsyncClient, workflow_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    body = {"name": "hook", "workflow_id": workflow_id or await publish(client, ECHO), **fields}
    created = await client.post(f"{API}/triggers/webhooks", json=body)
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


def standard_signed(
    secret: str, body: bytes, message_id: str = "msg_1", at: int | None = None
) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard(secret, message_id, stamp, body),
        "content-type": "application/json",
    }


def github_signed(secret: str, body: bytes, delivery: str = "gh-1") -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "x-hub-signature-256": f"sha256={digest}",
        "x-github-delivery": delivery,
        "content-type": "application/json",
    }


def stripe_signed(secret: str, body: bytes, at: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={stamp},v1={digest}", "content-type": "application/json"}


async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no credential: what a webhook sender is."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://towpath.test") as c:
        yield c


async def run_count(client: httpx.AsyncClient) -> int:
    return int((await client.get(f"{API}/runs")).headers["X-Total-Count"])


async def deliveries(client: httpx.AsyncClient, trigger_id: str) -> list[dict[str, Any]]:
    found = await client.get(f"{API}/triggers/webhooks/{trigger_id}/deliveries")
    assert found.status_code == 200, found.text
    listed: list[dict[str, Any]] = found.json()
    return listed
