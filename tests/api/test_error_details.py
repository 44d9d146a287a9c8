"""Error answers say what is wrong in the user's terms: the limit that was passed as a
number, the Content-Type a body needs, a state conflict as a 409, plain grammar; and
what is harmless to ask (an empty window) is no error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.factories import node
from tests.runs import API, admin_headers, publish, start, wait_for
from towpath.app import create_app

if TYPE_CHECKING:
    from towpath.config import Settings

ONE_STEP = {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}


async def test_a_definition_over_the_size_limit_gives_the_limit_in_bytes(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"max_definition_bytes": 2000}))
    big = {"nodes": [node("a", "transform", {"output": {"blob": "x" * 3000}})], "edges": []}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as client:
            response = await client.post(f"{API}/workflows", json={"name": "w", "definition": big})

    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error_code"] == "DEFINITION_TOO_LARGE"
    assert body["details"]["limit"] == 2000
    assert body["details"]["reason"] == "definition_too_large"


async def test_too_many_nodes_gives_the_node_limit(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_definition_nodes": 2}))
    nodes = [node(f"n{i}", "transform", {"output": {}}) for i in range(3)]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as client:
            response = await client.post(
                f"{API}/workflows", json={"name": "w", "definition": {"nodes": nodes}}
            )

    assert response.status_code == 422, response.text
    assert response.json()["details"] == {"reason": "too_many_nodes", "limit": 2}


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        ("text/plain", "'text/plain'"),
        ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded'"),
        (None, "no Content-Type"),
    ],
)
async def test_a_body_not_sent_as_json_names_the_content_type(
    client: httpx.AsyncClient, content_type: str | None, named: str
) -> None:
    request = client.build_request("POST", f"{API}/workflows", content=b'{"name": "w"}')
    if content_type is not None:
        request.headers["Content-Type"] = content_type

    response = await client.send(request)

    assert response.status_code == 415, response.text
    body = response.json()
    assert body["error_code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "Content-Type: application/json" in body["message"]
    assert named in body["message"]
    assert (await client.get(f"{API}/workflows")).headers["X-Total-Count"] == "0"


async def test_an_empty_body_is_still_a_missing_body(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/workflows", headers={"Content-Type": "text/plain"})

    assert response.status_code == 422, response.text
    assert response.json()["error_code"] == "VALIDATION_ERROR"


async def test_a_refused_address_reads_with_its_article(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"step_allowed_hosts": []}))
    call = {"url": "http://0.0.0.0:9/", "retry": {"max_attempts": 1}}
    definition = {"nodes": [node("call", "http_request", call)], "edges": []}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as client:
            run = await start(client, await publish(client, definition))
            done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "an unspecified address" in done["error"]
    assert "a unspecified" not in done["error"]


async def test_deleting_a_published_workflow_is_a_conflict(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ONE_STEP)

    response = await client.delete(f"{API}/workflows/{workflow_id}")

    # As changing it is: the workflow's state refuses it, not the request.
    assert response.status_code == 409, response.text
    assert response.json()["error_code"] == "WORKFLOW_PUBLISHED"
    assert (await client.get(f"{API}/workflows/{workflow_id}")).status_code == 200


async def test_a_window_of_no_length_is_empty_not_an_error(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ONE_STEP)
    await wait_for(client, (await start(client, workflow_id))["id"], "completed")
    moment = "2026-01-01T00:00:00Z"

    same = await client.get(
        f"{API}/workflows/{workflow_id}/stats", params={"since": moment, "until": moment}
    )
    inverted = await client.get(
        f"{API}/workflows/{workflow_id}/stats",
        params={"since": "2026-01-02T00:00:00Z", "until": moment},
    )

    assert same.status_code == 200, same.text
    assert same.json()["total_runs"] == 0
    assert inverted.status_code == 400, inverted.text
    assert "since" in inverted.json()["message"]


@pytest.mark.parametrize("what", ["events", "logs"])
async def test_a_sequence_number_past_any_database_is_invalid(
    client: httpx.AsyncClient, what: str
) -> None:
    run = await start(client, await publish(client, ONE_STEP))

    response = await client.get(f"{API}/runs/{run['id']}/{what}", params={"after": 2**64 - 1})

    assert response.status_code == 422, response.text
    assert response.json()["details"]["errors"][0]["loc"] == ["query", "after"]
