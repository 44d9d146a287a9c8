"""One rule for an idempotency key, one answer when it is broken (422, naming the key),
whether it came in the header or the body; a reused key says what differs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from tests.factories import node
from tests.runs import API, publish
from towpath.services.idempotency import fingerprint
from towpath.storage.models import IdempotencyKey

if TYPE_CHECKING:
    import httpx

    from towpath.storage.database import Database

ONE_STEP = {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}
BROKEN = {"a space": "order 42", "too long": "k" * 256, "not ASCII": "caf\u00e9", "empty": ""}


def assert_invalid_key(response: httpx.Response, source: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_code"] == "INVALID_IDEMPOTENCY_KEY"
    assert "1-255 visible ASCII characters" in body["message"]
    assert body["details"]["in"] == source


@pytest.mark.parametrize("key", BROKEN.values(), ids=BROKEN.keys())
async def test_a_broken_header_key_is_one_422(client: httpx.AsyncClient, key: str) -> None:
    workflow_id = await publish(client, ONE_STEP)
    # Sent as UTF-8 bytes: a header's text is not ASCII-only on the wire.
    headers = {b"X-Idempotency-Key": key.encode()}

    created = await client.post(f"{API}/workflows", json={"name": "w"}, headers=headers)
    started = await client.post(f"{API}/workflows/{workflow_id}/run", json={}, headers=headers)

    assert_invalid_key(created, "header")
    assert "X-Idempotency-Key" in created.json()["message"]
    assert_invalid_key(started, "header")
    assert (await client.get(f"{API}/runs")).headers["X-Total-Count"] == "0"


@pytest.mark.parametrize("key", BROKEN.values(), ids=BROKEN.keys())
async def test_a_broken_body_key_is_the_same_422(client: httpx.AsyncClient, key: str) -> None:
    workflow_id = await publish(client, ONE_STEP)

    response = await client.post(
        f"{API}/workflows/{workflow_id}/run", json={"input": {}, "idempotency_key": key}
    )

    assert_invalid_key(response, "body")
    assert "idempotency_key" in response.json()["message"]
    assert (await client.get(f"{API}/runs")).headers["X-Total-Count"] == "0"


async def test_a_key_reused_on_another_workflow_names_the_target(
    client: httpx.AsyncClient,
) -> None:
    first, second = await publish(client, ONE_STEP), await publish(client, ONE_STEP)
    headers = {"X-Idempotency-Key": "order-42"}
    body = {"input": {"n": 1}}

    started = await client.post(f"{API}/workflows/{first}/run", json=body, headers=headers)
    elsewhere = await client.post(f"{API}/workflows/{second}/run", json=body, headers=headers)

    assert started.status_code == 201, started.text
    assert elsewhere.status_code == 422, elsewhere.text
    refused = elsewhere.json()
    assert refused["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    # The body is the same: what differs is where it was sent.
    assert "body" not in refused["details"]["differs"]
    assert refused["details"]["differs"] == ["target"]
    assert "another target (method and path)" in refused["message"]
    assert "different request body" not in refused["message"]


async def test_a_key_reused_with_another_body_names_the_body(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ONE_STEP)
    url, headers = f"{API}/workflows/{workflow_id}/run", {"X-Idempotency-Key": "order-43"}

    started = await client.post(url, json={"input": {"n": 1}}, headers=headers)
    changed = await client.post(url, json={"input": {"n": 2}}, headers=headers)

    assert started.status_code == 201, started.text
    assert changed.status_code == 422, changed.text
    assert changed.json()["details"]["differs"] == ["body"]
    assert "different request body" in changed.json()["message"]


async def test_a_key_claimed_before_digests_were_split_still_replays(
    client: httpx.AsyncClient, db: Database
) -> None:
    workflow_id = await publish(client, ONE_STEP)
    url, headers = f"{API}/workflows/{workflow_id}/run", {"X-Idempotency-Key": "order-44"}
    body = {"input": {"n": 1}}
    started = await client.post(url, json=body, headers=headers)
    # As a server before this version stored it: one digest of target and body together.
    async with db.transaction() as session:
        row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "order-44"))
        assert row is not None
        row.fingerprint = fingerprint(f"POST {url}", body)

    again = await client.post(url, json=body, headers=headers)

    assert again.status_code == 200, again.text
    assert again.json()["id"] == started.json()["id"]
