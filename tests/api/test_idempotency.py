"""X-Idempotency-Key on creating endpoints."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from tests.factories import workflow_body
from towpath.domain.clock import utcnow
from towpath.storage.models import IdempotencyKey, Workflow

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.storage.database import Database

API = "/api/v1/workflows"


async def test_same_key_same_body_returns_the_first_result(client: httpx.AsyncClient) -> None:
    headers = {"X-Idempotency-Key": "create-1"}

    first = await client.post(API, json=workflow_body(), headers=headers)
    again = await client.post(API, json=workflow_body(), headers=headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert (await client.get(API)).headers["X-Total-Count"] == "1"


async def test_same_key_other_body_is_422(client: httpx.AsyncClient) -> None:
    headers = {"X-Idempotency-Key": "create-2"}
    await client.post(API, json=workflow_body("a"), headers=headers)

    response = await client.post(API, json=workflow_body("b"), headers=headers)

    assert response.status_code == 422
    assert response.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await client.get(API)).headers["X-Total-Count"] == "1"


async def test_key_in_flight_is_409(client: httpx.AsyncClient, app: FastAPI, db: Database) -> None:
    # A first request holding the key right now, as if it were still working.
    first = await client.post(API, json=workflow_body(), headers={"X-Idempotency-Key": "slow"})
    async with db.transaction() as session:
        row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "slow"))
        assert row is not None
        row.response_body = None
        row.response_status = None
        row.locked_at = utcnow()

    response = await client.post(API, json=workflow_body(), headers={"X-Idempotency-Key": "slow"})

    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json()["error_code"] == "IDEMPOTENCY_KEY_IN_FLIGHT"


async def test_a_key_whose_holder_died_is_taken_over(
    client: httpx.AsyncClient, db: Database
) -> None:
    await client.post(API, json=workflow_body(), headers={"X-Idempotency-Key": "died"})
    async with db.transaction() as session:
        row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "died"))
        assert row is not None
        row.response_body = None
        row.locked_at = utcnow() - timedelta(minutes=5)

    response = await client.post(API, json=workflow_body(), headers={"X-Idempotency-Key": "died"})

    assert response.status_code == 201


async def test_an_expired_key_starts_afresh(client: httpx.AsyncClient, db: Database) -> None:
    first = await client.post(API, json=workflow_body("a"), headers={"X-Idempotency-Key": "old"})
    async with db.transaction() as session:
        row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "old"))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)

    second = await client.post(API, json=workflow_body("b"), headers={"X-Idempotency-Key": "old"})

    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]


async def test_a_failed_request_frees_its_key(client: httpx.AsyncClient) -> None:
    headers = {"X-Idempotency-Key": "dup"}

    missing = await client.post(f"{API}/nope/duplicate", headers=headers)

    assert missing.status_code == 404
    created = await client.post(API, json=workflow_body(), headers=headers)
    assert created.status_code == 201


async def test_concurrent_duplicates_create_one_workflow(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = {"X-Idempotency-Key": "race"}

    responses = await asyncio.gather(
        *(client.post(API, json=workflow_body(), headers=headers) for _ in range(8))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201, 409}
    ids = {r.json()["id"] for r in responses if r.status_code in (200, 201)}
    assert len(ids) == 1
    async with db.read() as session:
        assert len((await session.scalars(select(Workflow))).all()) == 1


async def test_keys_are_scoped_per_operation(client: httpx.AsyncClient) -> None:
    headers = {"X-Idempotency-Key": "shared"}
    created = await client.post(API, json=workflow_body())

    dup = await client.post(f"{API}/{created.json()['id']}/duplicate", headers=headers)
    other = await client.post(API, json=workflow_body(), headers=headers)

    assert dup.status_code == 201
    # Same key, other operation: a different request, so the body check refuses it.
    assert other.status_code == 422
