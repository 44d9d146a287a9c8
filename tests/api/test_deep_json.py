"""Deeply nested JSON: what the API cannot answer with, it does not store. A body nested
deeper than MAX_JSON_DEPTH levels is refused with a 422, and every list still answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.runs import API, publish
from towpath.domain.json_data import MAX_JSON_DEPTH

if TYPE_CHECKING:
    import httpx

DEPTH = 300  # well within what the JSON parser reads (about 1000)


def _nested(depth: int = DEPTH) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _refused(response: httpx.Response) -> None:
    assert response.status_code in (400, 413, 422), (response.status_code, response.text)
    assert set(response.json()) == {"error_code", "message", "details", "request_id"}


async def test_a_deep_definition_is_refused_and_the_list_still_answers(
    client: httpx.AsyncClient,
) -> None:
    body = {"name": "deep", "definition": {"nodes": [], "edges": [], "meta": _nested()}}

    _refused(await client.post(f"{API}/workflows", json=body))

    listed = await client.get(f"{API}/workflows")
    assert listed.status_code == 200, listed.text
    assert listed.json() == []


async def test_a_deep_run_input_is_refused_and_no_run_is_left_behind(
    client: httpx.AsyncClient,
) -> None:
    definition = {"nodes": [node("a", "transform", {"output": {"ok": True}})], "edges": []}
    workflow_id = await publish(client, definition)

    started = await client.post(
        f"{API}/workflows/{workflow_id}/run", json={"input": {"x": _nested()}}
    )

    _refused(started)
    listed = await client.get(f"{API}/runs")
    assert listed.status_code == 200, listed.text
    assert listed.headers["X-Total-Count"] == "0"


async def test_any_body_nested_too_deep_is_refused(client: httpx.AsyncClient) -> None:
    posted = await client.post(f"{API}/events", json={"name": "e", "data": {"x": _nested()}})

    _refused(posted)
    assert posted.json()["details"]["errors"][0]["type"] == "too_deep"


async def test_a_definition_at_the_depth_limit_is_stored(client: httpx.AsyncClient) -> None:
    # The body, the definition and `meta` take three of the levels.
    meta = _nested(MAX_JSON_DEPTH - 2)
    body = {"name": "deep", "definition": {"nodes": [], "edges": [], "meta": meta}}

    created = await client.post(f"{API}/workflows", json=body)

    assert created.status_code == 201, created.text
    read = await client.get(f"{API}/workflows/{created.json()['id']}")
    assert read.json()["definition"]["meta"] == meta
