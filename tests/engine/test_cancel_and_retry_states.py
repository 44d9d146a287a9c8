"""Cancel and retry from every state a user can catch a run in: what is allowed ends the
run once; what is not is a 409 naming the state; nothing runs after a cancel."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for, wait_for_step

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer


def _flaky(echo_server: EchoServer, key: str, failures: int, **retry: Any) -> dict[str, Any]:
    config = {"url": f"{echo_server.url}/flaky/{key}?failures={failures}", "retry": retry}
    return {"nodes": [node("call", "http_request", config)], "edges": []}


async def _conflict(response: httpx.Response, status: str) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert set(body) == {"error_code", "message", "details", "request_id"}
    assert body["details"].get("status") == status, body


async def test_cancel_during_a_backoff_stops_the_attempts(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    key = uuid.uuid4().hex
    # A backoff long enough that a loaded machine still cancels before it ends.
    definition = _flaky(echo_server, key, 5, max_attempts=5, backoff_seconds=2)
    run = await start(client, await publish(client, definition))
    await wait_for_step(client, run["id"], "call", "retrying")

    cancelled = await client.post(f"{API}/runs/{run['id']}/cancel", json={"reason": "enough"})
    # Past the 2 s backoff: time must pass for an attempt that should not come.
    await asyncio.sleep(2.5)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"] == "enough"
    assert echo_server.calls(key) == 1
    steps = await steps_by_id(client, run["id"])
    assert steps["call"]["status"] == "cancelled"
    assert (await event_types(client, run["id"]))[-1] == "run.cancelled"


async def test_a_cancelled_run_cannot_be_retried_or_cancelled_again(
    client: httpx.AsyncClient,
) -> None:
    definition = {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}
    run = await start(client, await publish(client, definition))
    await wait_for(client, run["id"], "waiting")
    assert (await client.post(f"{API}/runs/{run['id']}/cancel")).status_code == 200

    await _conflict(await client.post(f"{API}/runs/{run['id']}/retry"), "cancelled")
    await _conflict(await client.post(f"{API}/runs/{run['id']}/cancel"), "cancelled")


async def test_retry_twice_in_a_row_retries_once(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    key = uuid.uuid4().hex
    run = await start(client, await publish(client, _flaky(echo_server, key, 1)))
    await wait_for(client, run["id"], "failed")

    first, second = await asyncio.gather(
        client.post(f"{API}/runs/{run['id']}/retry"),
        client.post(f"{API}/runs/{run['id']}/retry"),
    )

    assert sorted([first.status_code, second.status_code]) == [200, 409]
    done = await wait_for(client, run["id"], "completed", "failed")
    assert done["status"] == "completed"
    assert echo_server.calls(key) == 2
    types = await event_types(client, run["id"])
    assert types.count("run.retried") == 1
    await _conflict(await client.post(f"{API}/runs/{run['id']}/retry"), "completed")


async def test_a_run_failed_twice_can_be_retried_twice(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    key = uuid.uuid4().hex
    run = await start(client, await publish(client, _flaky(echo_server, key, 2)))
    await wait_for(client, run["id"], "failed")

    assert (await client.post(f"{API}/runs/{run['id']}/retry")).status_code == 200
    assert (await wait_for(client, run["id"], "failed", "completed"))["status"] == "failed"
    assert (await client.post(f"{API}/runs/{run['id']}/retry")).status_code == 200
    done = await wait_for(client, run["id"], "failed", "completed")

    assert done["status"] == "completed"
    assert done["error"] is None
    steps = await steps_by_id(client, run["id"])
    assert [a["outcome"] for a in steps["call"]["attempts"]] == ["failed", "failed", "completed"]
    assert steps["call"]["attempt"] == 3
