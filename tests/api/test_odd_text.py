"""Odd text in what users send: a NUL character or a lone surrogate is refused with a
422 in the error envelope, on every database, and nothing is stored. A path holding a NUL
names nothing (404); a query parameter holding one is refused (422)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx


NUL = "a\u0000b"
ECHO_INPUT = {"nodes": [node("a", "transform", {"output": {"x": "{{ input.x }}"}})], "edges": []}


def _refused(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert set(body) == {"error_code", "message", "details", "request_id"}, body
    return body


@pytest.mark.parametrize(
    "body",
    [
        {"name": NUL},
        {"name": "ok", "description": NUL},
        {"name": "ok", "definition": {"nodes": [], "edges": [], "note": NUL}},
        {"name": "ok", "definition": {"nodes": [], "edges": [], NUL: 1}},
        {"name": "ok", "input_schema": {"type": "object", "description": NUL}},
    ],
    ids=["name", "description", "definition-value", "definition-key", "input-schema"],
)
async def test_a_workflow_with_a_nul_character_is_refused(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    _refused(await client.post(f"{API}/workflows", json=body))

    listed = await client.get(f"{API}/workflows")
    assert listed.headers["X-Total-Count"] == "0"


async def test_a_workflow_update_with_a_nul_character_is_refused(
    client: httpx.AsyncClient,
) -> None:
    created = (await client.post(f"{API}/workflows", json={"name": "ok"})).json()

    _refused(await client.put(f"{API}/workflows/{created['id']}", json={"name": NUL}))

    assert (await client.get(f"{API}/workflows/{created['id']}")).json()["name"] == "ok"


async def test_a_run_input_with_a_nul_character_is_refused(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ECHO_INPUT)

    _refused(await client.post(f"{API}/workflows/{workflow_id}/run", json={"input": {"x": NUL}}))

    assert (await client.get(f"{API}/runs")).headers["X-Total-Count"] == "0"


async def test_an_event_with_a_nul_character_is_refused_and_the_step_still_waits(
    client: httpx.AsyncClient,
) -> None:
    definition = {"nodes": [node("paid", "wait_for_event", {"event_name": "paid"})], "edges": []}
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "waiting")

    _refused(await client.post(f"{API}/events", json={"name": "paid", "data": {"x": NUL}}))

    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "waiting"


async def test_a_lone_surrogate_is_refused(client: httpx.AsyncClient) -> None:
    raw = b'{"name": "a\\ud800b"}'
    response = await client.post(
        f"{API}/workflows", content=raw, headers={"Content-Type": "application/json"}
    )

    _refused(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/workflows/a%00b"),
        ("POST", "/workflows/a%00b/publish"),
        ("POST", "/workflows/a%00b/run"),
        ("GET", "/runs/a%00b"),
        ("GET", "/runs/a%00b/steps"),
        ("GET", "/runs/a%00b/events"),
        ("POST", "/runs/a%00b/cancel"),
        ("POST", "/runs/a%00b/retry"),
    ],
)
async def test_an_id_with_a_nul_character_is_not_found(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    body: dict[str, Any] | None = {"input": {}} if path.endswith("/run") else None
    response = await client.request(method, f"{API}{path}", json=body)

    assert response.status_code == 404, response.text
    assert response.json()["error_code"].endswith("NOT_FOUND")


async def test_a_filter_with_a_nul_character_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/runs", params={"workflow_id": NUL})

    body = _refused(response)
    assert body["details"]["errors"][0]["loc"] == ["query", "workflow_id"]


async def test_answers_with_a_nul_character_are_refused_and_the_step_still_waits(
    client: httpx.AsyncClient,
) -> None:
    question = {"id": "why", "text": "Why?"}
    definition = {"nodes": [node("ask", "clarification", {"questions": [question]})], "edges": []}
    run = await start(client, await publish(client, definition))
    await wait_for(client, run["id"], "waiting")

    body = _refused(
        await client.post(f"{API}/runs/{run['id']}/clarify", json={"answers": {"why": NUL}})
    )

    assert body["details"]["errors"][0]["loc"] == ["body", "answers", "why"]
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "waiting"
