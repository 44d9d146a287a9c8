"""A number JSON does not have (NaN, Infinity), or one too large to store (1e400, which
would be read as Infinity), in a request body is refused like any malformed body, on
every database, and nothing is stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.factories import node
from tests.runs import API, publish

if TYPE_CHECKING:
    import httpx


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-2.5E999"])
async def test_a_body_with_a_number_json_does_not_have_is_refused(
    client: httpx.AsyncClient, literal: str
) -> None:
    step = node("a", "transform", {"output": {"v": "{{ input.x }}"}})
    workflow_id = await publish(client, {"nodes": [step], "edges": []})

    started = await client.post(
        f"{API}/workflows/{workflow_id}/run",
        content=f'{{"input": {{"x": {literal}}}}}',
        headers={"Content-Type": "application/json"},
    )

    # Not JSON (RFC 8259): refused like any malformed body, and no run is left behind.
    assert started.status_code in (400, 422), started.text
    assert set(started.json()) == {"error_code", "message", "details", "request_id"}
    assert (await client.get(f"{API}/runs")).headers["X-Total-Count"] == "0"


async def test_a_definition_with_nan_is_refused_and_not_stored(client: httpx.AsyncClient) -> None:
    body = '{"name": "n", "definition": {"nodes": [], "edges": [], "zoom": NaN}}'

    response = await client.post(
        f"{API}/workflows", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422, response.text
    assert response.json()["details"]["errors"][0]["type"] == "not_json_number"
    assert (await client.get(f"{API}/workflows")).headers["X-Total-Count"] == "0"
