"""GET /api/v1/runs/{id}/stream: the run's events as Server-Sent Events, resumed with
Last-Event-ID, read by a real HTTP client from a real server."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from tests.events.clients import approve, gate, gates, history
from tests.runs import publish, start, wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.events.conftest import LiveServer


@dataclass
class ServerSentEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.data)


@asynccontextmanager
async def sse(
    server: LiveServer, run_id: str, headers: dict[str, str]
) -> AsyncIterator[tuple[httpx.Response, AsyncIterator[ServerSentEvent]]]:
    async with (
        httpx.AsyncClient(base_url=server.http, headers=headers, timeout=20) as http,
        http.stream("GET", f"/api/v1/runs/{run_id}/stream") as response,
    ):
        yield response, _parse(response)


async def _parse(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    found = ServerSentEvent()
    async for line in response.aiter_lines():
        if not line:
            yield found
            found = ServerSentEvent()
        elif line.startswith(":"):
            found.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(": ")
            if name == "retry":
                found.retry = int(value)
            elif name in ("event", "data", "id"):
                setattr(found, name, value)


async def waiting_run(client: httpx.AsyncClient, definition: dict[str, Any]) -> str:
    run_id: str = (await start(client, await publish(client, definition)))["id"]
    await wait_for(client, run_id, "waiting")
    return run_id


async def test_a_snapshot_then_every_event_until_the_run_ends(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    async with sse(server, run_id, auth_headers) as (response, events):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        first = await anext(events)
        snapshot = await anext(events)
        await approve(client, run_id)
        rest = [event async for event in events if not event.comments]

    assert first.retry == 3000
    assert snapshot.event == "snapshot"
    assert snapshot.json["run"]["status"] == "waiting"
    assert snapshot.id == str(snapshot.json["seq"])
    stored = await history(client, run_id)
    assert [int(e.id or 0) for e in rest] == [e["seq"] for e in stored[snapshot.json["seq"] :]]
    assert [e.event for e in rest] == [e["event_type"] for e in stored[snapshot.json["seq"] :]]
    assert all(e.json["type"] == "event" for e in rest)
    assert rest[-1].event == "run.completed"


async def test_last_event_id_resumes_after_it_and_204_ends_a_finished_run(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gates(2))
    await approve(client, run_id, "g0")
    await wait_for(client, run_id, "waiting")
    stored = await history(client, run_id)

    resume = {**auth_headers, "Last-Event-ID": "3"}
    async with sse(server, run_id, resume) as (_, events):
        replayed: list[ServerSentEvent] = []
        while len(replayed) < len(stored) - 3:
            event = await anext(events)
            if event.id is not None:
                replayed.append(event)
        await approve(client, run_id, "g1")
        rest = [event async for event in events if event.id is not None]

    ids = [int(e.id or 0) for e in replayed + rest]
    assert ids == list(range(4, len(await history(client, run_id)) + 1))
    assert all(e.event != "snapshot" for e in replayed)

    async with httpx.AsyncClient(base_url=server.http, headers=auth_headers) as http:
        last = str(ids[-1])
        finished = await http.get(f"/api/v1/runs/{run_id}/stream", headers={"Last-Event-ID": last})
        missing = await http.get("/api/v1/runs/no-such-run/stream")
    assert finished.status_code == 204
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RUN_NOT_FOUND"
    assert server.hub.subscriber_count() == 0


async def test_an_idle_stream_is_pinged_and_a_disconnect_frees_it(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    async with sse(server, run_id, auth_headers) as (_, events):
        await anext(events)
        await anext(events)
        assert server.hub.subscriber_count() == 1
        ping = await asyncio.wait_for(anext(events), 10)
        assert ping.comments == ["ping"]
    await eventually(lambda: server.hub.subscriber_count() == 0, 5.0)


async def test_an_event_source_reads_with_a_stream_token_in_the_url(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    token = (await client.post("/api/v1/stream-tokens")).json()["token"]
    api_key = auth_headers["Authorization"].removeprefix("Bearer ")

    async with httpx.AsyncClient(base_url=server.http, timeout=20) as http:
        nothing = await http.get(f"/api/v1/runs/{run_id}/stream")
        a_key = await http.get(f"/api/v1/runs/{run_id}/stream", params={"token": api_key})
        async with http.stream(
            "GET", f"/api/v1/runs/{run_id}/stream", params={"token": token}
        ) as response:
            assert response.status_code == 200
            events = _parse(response)
            await anext(events)  # retry:
            assert (await anext(events)).event == "snapshot"

    # Without headers an EventSource may only bring a stream token, never a long-lived key.
    for refused in (nothing, a_key):
        assert refused.status_code == 401, refused.text
        assert refused.json()["error_code"] == "UNAUTHENTICATED"
