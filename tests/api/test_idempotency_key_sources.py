"""The idempotency key of a run may come in the header or the body: one key per request,
held to the same rules wherever it comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.factories import node
from tests.runs import API, publish

if TYPE_CHECKING:
    import httpx

ONE_STEP = {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}


async def test_two_different_keys_in_one_request_are_refused(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ONE_STEP)

    response = await client.post(
        f"{API}/workflows/{workflow_id}/run",
        json={"input": {}, "idempotency_key": "from-body"},
        headers={"X-Idempotency-Key": "from-header"},
    )

    # Which one would a retry have to repeat? Neither is guessed.
    assert response.status_code in (400, 422), response.text
    assert (await client.get(f"{API}/runs")).headers["X-Total-Count"] == "0"


@pytest.mark.parametrize("key", ["line\nbreak", "tab\there", "caf\u00e9", " "])
async def test_a_body_key_follows_the_header_rules(client: httpx.AsyncClient, key: str) -> None:
    workflow_id = await publish(client, ONE_STEP)
    url = f"{API}/workflows/{workflow_id}/run"

    in_body = await client.post(url, json={"input": {}, "idempotency_key": key})

    # The header refuses what is not 1-255 visible ASCII characters; so does the body.
    assert in_body.status_code in (400, 422), in_body.text


async def test_the_same_key_in_the_header_and_the_body_is_one_key(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, ONE_STEP)
    url = f"{API}/workflows/{workflow_id}/run"
    body = {"input": {}, "idempotency_key": "order-42"}

    first = await client.post(url, json=body, headers={"X-Idempotency-Key": "order-42"})
    again = await client.post(url, json=body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


async def test_different_keys_say_which_is_which(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ONE_STEP)

    response = await client.post(
        f"{API}/workflows/{workflow_id}/run",
        json={"input": {}, "idempotency_key": "from-body"},
        headers={"X-Idempotency-Key": "from-header"},
    )

    assert response.status_code == 422
    assert response.json()["error_code"] == "IDEMPOTENCY_KEYS_DIFFER"
    assert response.json()["details"] == {"header": "from-header", "body": "from-body"}
