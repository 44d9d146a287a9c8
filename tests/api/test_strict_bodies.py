"""A request body's values are taken with their JSON types, never converted: `"yes"`, `"on"`,
`"true"`, `1` and `1.0` are no boolean, `"5"` and `5.0` no integer, a number no time.
Query parameters are text, and are read as such."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx

WAITS_FOR_APPROVAL = {
    "nodes": [
        node("review", "approval", {"message": "Ship it?"}),
        node("ship", "transform", {"output": {"shipped": True}}),
    ],
    "edges": [edge("review", "ship")],
}


def assert_invalid(response: httpx.Response, where: list[str | int]) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body) == {"error_code", "message", "details", "request_id"}
    assert body["error_code"] == "VALIDATION_ERROR"
    assert where in [error["loc"] for error in body["details"]["errors"]]


@pytest.mark.parametrize("approved", ["yes", "on", "true", "1", 1, 1.0, "no", "off", 0, 0.0, None])
async def test_only_a_json_boolean_approves_or_rejects(
    client: httpx.AsyncClient, approved: Any
) -> None:
    workflow_id = await publish(client, WAITS_FOR_APPROVAL)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "waiting")

    response = await client.post(f"{API}/runs/{run['id']}/approve", json={"approved": approved})

    assert_invalid(response, ["body", "approved"])
    assert (await steps_by_id(client, run["id"]))["review"]["status"] == "waiting"
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "waiting"


async def test_a_json_boolean_still_approves(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, WAITS_FOR_APPROVAL)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "waiting")

    response = await client.post(f"{API}/runs/{run['id']}/approve", json={"approved": True})

    assert response.status_code == 200, response.text
    assert (await wait_for(client, run["id"], "completed"))["context"]["ship"] == {"shipped": True}


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/workflows", {"name": 5}, ["body", "name"]),
        ("/workflows", {"name": "w", "description": True}, ["body", "description"]),
        (
            "/workflows",
            {"name": "w", "definition": {"nodes": [node("a", "transform", {}) | {"id": 7}]}},
            ["body", "definition", "nodes", 0, "id"],
        ),
        (
            "/workflows",
            {
                "name": "w",
                "definition": {"nodes": [{"id": "a", "type": "transform", "position": {"x": "1"}}]},
            },
            ["body", "definition", "nodes", 0, "position", "x"],
        ),
        (
            "/api-keys",
            {"name": "k", "role": "viewer", "expires_at": 4102444800},
            ["body", "expires_at"],
        ),
        (
            "/api-keys",
            {"name": "k", "role": "viewer", "expires_at": "4102444800"},
            ["body", "expires_at"],
        ),
        (
            "/api-keys",
            {"name": "k", "role": "viewer", "expires_at": "9999-12-31T23:59:59-14:00"},
            ["body", "expires_at"],
        ),
        ("/members", {"subject": 42, "role": "viewer"}, ["body", "subject"]),
        ("/events", {"name": "paid", "key": 42}, ["body", "key"]),
        ("/events", {"name": ["paid"]}, ["body", "name"]),
    ],
)
async def test_other_bodies_take_no_conversions(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], where: list[str | int]
) -> None:
    assert_invalid(await client.post(f"{API}{path}", json=body), where)


async def test_a_cancel_reason_is_text(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, WAITS_FOR_APPROVAL)
    run = await start(client, workflow_id)

    response = await client.post(f"{API}/runs/{run['id']}/cancel", json={"reason": 5})

    assert_invalid(response, ["body", "reason"])
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] != "cancelled"


async def test_a_key_expiring_at_a_time_with_an_offset_is_taken(client: httpx.AsyncClient) -> None:
    body = {"name": "k", "role": "viewer", "expires_at": "2100-01-01T00:00:00+01:00"}

    response = await client.post(f"{API}/api-keys", json=body)

    assert response.status_code == 201, response.text
    expires_at = datetime.fromisoformat(response.json()["expires_at"])
    assert expires_at == datetime(2099, 12, 31, 23, tzinfo=UTC)


async def test_query_parameters_are_read_from_text(client: httpx.AsyncClient) -> None:
    listed = await client.get(
        f"{API}/runs", params={"page": "1", "per_page": "5", "since": "2026-01-01T00:00:00Z"}
    )
    assert listed.status_code == 200, listed.text

    # A number of seconds is no time, in a query as in a body.
    as_seconds = await client.get(f"{API}/runs", params={"since": "1767225600"})
    assert_invalid(as_seconds, ["query", "since"])
