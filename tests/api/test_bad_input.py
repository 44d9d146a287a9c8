"""Bad requests get a clear 4xx in the envelope, and nothing is stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.factories import edge, node, workflow_body

if TYPE_CHECKING:
    import httpx

API = "/api/v1/workflows"


async def stored(client: httpx.AsyncClient) -> int:
    return int((await client.get(API)).headers["X-Total-Count"])


def assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message", "details", "request_id"}
    assert body["error_code"] == code
    assert body["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        API, content=b'{"name": "x", ', headers={"Content-Type": "application/json"}
    )

    assert_envelope(response, 400, "MALFORMED_JSON")
    assert await stored(client) == 0


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": 5}, ["body", "name"]),
        ({"name": ""}, ["body", "name"]),
        ({"description": "no name"}, ["body", "name"]),
        ({"name": "x", "definition": {"nodes": "many"}}, ["body", "definition", "nodes"]),
        ({"name": "x", "definition": {"nodes": [{"type": "transform"}]}}, None),
        ({"name": "x", "input_schema": []}, ["body", "input_schema"]),
        ({"name": "x", "colour": "red"}, ["body", "colour"]),
    ],
)
async def test_wrong_types_and_unknown_fields(
    client: httpx.AsyncClient, body: dict[str, object], where: list[str] | None
) -> None:
    response = await client.post(API, json=body)

    assert_envelope(response, 422, "VALIDATION_ERROR")
    locations = [e["loc"] for e in response.json()["details"]["errors"]]
    if where is not None:
        assert where in locations
    assert await stored(client) == 0


async def test_a_body_that_is_not_an_object(client: httpx.AsyncClient) -> None:
    response = await client.post(API, json=["name"])

    assert_envelope(response, 422, "VALIDATION_ERROR")


async def test_update_refuses_unknown_fields(client: httpx.AsyncClient) -> None:
    created = (await client.post(API, json=workflow_body())).json()

    response = await client.put(f"{API}/{created['id']}", json={"status": "published"})

    assert_envelope(response, 422, "VALIDATION_ERROR")
    assert (await client.get(f"{API}/{created['id']}")).json()["status"] == "draft"


async def test_definition_over_the_byte_limit_is_413(client: httpx.AsyncClient) -> None:
    big = {"output": {"blob": "x" * (1024 * 1024)}}
    body = workflow_body(definition={"nodes": [node("a", "transform", big)], "edges": []})

    response = await client.post(API, json=body)

    assert_envelope(response, 413, "DEFINITION_TOO_LARGE")
    assert await stored(client) == 0


async def test_definition_with_too_many_nodes_is_422(client: httpx.AsyncClient) -> None:
    nodes = [node(f"n{i}", "transform", {"output": {}}) for i in range(501)]
    edges = [edge(f"n{i}", f"n{i + 1}") for i in range(500)]
    body = workflow_body(definition={"nodes": nodes, "edges": edges})

    response = await client.post(API, json=body)

    assert_envelope(response, 422, "DEFINITION_OVER_LIMIT")
    assert await stored(client) == 0


async def test_oversized_update_leaves_the_draft_alone(client: httpx.AsyncClient) -> None:
    created = (await client.post(API, json=workflow_body())).json()
    big = {"nodes": [node("a", "transform", {"output": {"blob": "x" * (1024 * 1024)}})]}

    response = await client.put(f"{API}/{created['id']}", json={"definition": big})

    assert_envelope(response, 413, "DEFINITION_TOO_LARGE")
    current = (await client.get(f"{API}/{created['id']}")).json()
    assert current["definition"] == created["definition"]


async def test_request_body_over_the_server_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        API,
        content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )

    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    assert_envelope(await client.patch(API), 405, "METHOD_NOT_ALLOWED")


async def test_bad_idempotency_key_header(client: httpx.AsyncClient) -> None:
    response = await client.post(
        API, json=workflow_body(), headers={"X-Idempotency-Key": "has spaces"}
    )

    assert_envelope(response, 422, "INVALID_IDEMPOTENCY_KEY")
    assert await stored(client) == 0


async def test_a_workflow_field_cannot_be_set_to_null(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/v1/workflows", json={"name": "n"})).json()

    for field in ("name", "description", "definition"):
        response = await client.put(f"/api/v1/workflows/{created['id']}", json={field: None})
        assert response.status_code == 422, field
    cleared = await client.put(f"/api/v1/workflows/{created['id']}", json={"input_schema": None})
    assert cleared.status_code == 200
    assert (await client.get(f"/api/v1/workflows/{created['id']}")).status_code == 200
