"""Access ends when it is revoked: a revoked API key or a removed member closes the streams
it opened (4401, saying why) within a second, and the stream tokens made from it open
nothing more; a member whose role is lowered keeps reading.

The tests give a close 5 s, for a loaded machine: still well inside the 10 s for which an
authenticator keeps what it read, so a close that waited for the cache to expire fails."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from tests.events.clients import gate, receive, socket, until_closed
from tests.events.test_sse import sse
from tests.runs import publish, start, wait_for
from tests.waiting import eventually
from towpath.domain.clock import utcnow
from towpath.domain.errors import Unauthenticated
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from tests.events.conftest import LiveServer
    from towpath.config import Settings

SECRET = "revocation-test-secret-with-at-least-32-characters"
PING = '{"type":"ping"}'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"jwt_secret": SECRET})


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def user_token(subject: str) -> str:
    now = int(time.time())
    claims = {"sub": subject, "aud": "authenticated", "iat": now, "exp": now + 600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def new_key(client: httpx.AsyncClient, role: str = "viewer") -> tuple[str, str]:
    made = await client.post("/api/v1/api-keys", json={"name": "watcher", "role": role})
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["key"]


async def waiting_run(client: httpx.AsyncClient) -> str:
    run_id: str = (await start(client, await publish(client, gate())))["id"]
    await wait_for(client, run_id, "waiting")
    return run_id


async def stream_token(server: LiveServer, headers: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=server.http, headers=headers) as http:
        made = await http.post("/api/v1/stream-tokens")
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


async def refusal(server: LiveServer, path: str, headers: dict[str, str]) -> tuple[int, str]:
    async with socket(server, path, headers) as ws:
        with pytest.raises(ConnectionClosed):
            await receive(ws)
        return ws.close_code or 0, ws.close_reason or ""


async def still_open(ws: Any) -> None:
    """Two pings arrive: the stream outlived whatever happened before."""
    for _ in range(2):
        assert await asyncio.wait_for(ws.recv(), 10) == PING


async def test_revoking_a_key_closes_its_sockets_within_a_second(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client)
    key_id, key = await new_key(client)

    async with (
        socket(server, "/ws/stream", bearer(key)) as everything,
        socket(server, f"/ws/runs/{run_id}", bearer(key)) as one_run,
        socket(server, "/ws/stream", auth_headers) as admins,
    ):
        assert (await receive(one_run))["type"] == "snapshot"
        await eventually(lambda: server.hub.subscriber_count() == 3)
        revoked = await client.delete(f"/api/v1/api-keys/{key_id}")
        assert revoked.status_code == 200, revoked.text
        await until_closed(everything, 5.0)
        await until_closed(one_run, 5.0)
        await still_open(admins)

    for ws in (everything, one_run):
        assert (ws.close_code, ws.close_reason) == (4401, "the API key was revoked")
    await server.subscribers_gone()


async def test_an_event_stream_of_a_revoked_key_ends_with_an_event_saying_why(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(client)
    key_id, key = await new_key(client)

    async with sse(server, run_id, bearer(key)) as (_, events):
        assert (await anext(events)).retry is not None
        assert (await anext(events)).event == "snapshot"
        await client.delete(f"/api/v1/api-keys/{key_id}")
        async with asyncio.timeout(5.0):
            rest = [event async for event in events if not event.comments]

    assert [event.event for event in rest] == ["end"]
    assert rest[0].json == {"type": "end", "code": 4401, "reason": "the API key was revoked"}
    await server.subscribers_gone()


async def test_a_stream_token_made_before_the_revocation_opens_nothing(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(client)
    key_id, key = await new_key(client)
    token = await stream_token(server, bearer(key))
    async with socket(server, f"/ws/stream?token={token}", {}) as ws:
        assert await asyncio.wait_for(ws.recv(), 10) == PING
        await client.delete(f"/api/v1/api-keys/{key_id}")
        await until_closed(ws, 5.0)
        assert ws.close_code == 4401

    refused = await refusal(server, f"/ws/runs/{run_id}?token={token}", {})
    async with httpx.AsyncClient(base_url=server.http) as http:
        by_sse = await http.get(f"/api/v1/runs/{run_id}/stream", params={"token": token})

    assert refused == (4401, "the API key was revoked")
    assert by_sse.status_code == 401
    assert by_sse.json()["message"] == "the API key was revoked"
    await server.subscribers_gone()


async def test_removing_a_member_closes_its_streams_and_a_lowered_role_keeps_reading(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(client)
    added = await client.post("/api/v1/members", json={"subject": "ann", "role": "editor"})
    member_id = added.json()["id"]
    headers = bearer(user_token("ann"))
    token = await stream_token(server, headers)

    async with (
        socket(server, "/ws/stream", headers) as everything,
        sse(server, run_id, headers) as (_, events),
    ):
        await anext(events)
        assert (await anext(events)).event == "snapshot"
        lowered = await client.put(f"/api/v1/members/{member_id}", json={"role": "viewer"})
        assert lowered.status_code == 200, lowered.text
        await still_open(everything)
        async with httpx.AsyncClient(base_url=server.http, headers=headers) as http:
            as_viewer = await http.post("/api/v1/workflows", json={"name": "x"})
        async with socket(server, f"/ws/runs/{run_id}?token={token}", {}) as by_token:
            assert (await receive(by_token))["type"] == "snapshot"

        removed = await client.delete(f"/api/v1/members/{member_id}")
        assert removed.status_code == 204
        await until_closed(everything, 5.0)
        async with asyncio.timeout(5.0):
            rest = [event async for event in events if not event.comments]

    reason = "the member was removed from the workspace"
    assert as_viewer.status_code == 403
    assert (everything.close_code, everything.close_reason) == (4401, reason)
    assert [event.event for event in rest] == ["end"]
    assert rest[0].json == {"type": "end", "code": 4401, "reason": reason}
    assert await refusal(server, f"/ws/stream?token={token}", {}) == (4401, reason)
    await server.subscribers_gone()


async def test_leaving_another_workspace_leaves_the_streams_of_this_one_open(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    await client.post("/api/v1/members", json={"subject": "ann", "role": "viewer"})
    other = await issue_workspace_key(server.app.state.db, "b admin", "admin", workspace="team-b")
    async with httpx.AsyncClient(base_url=server.http, headers=bearer(other.plaintext)) as b:
        theirs = (await b.post("/api/v1/members", json={"subject": "ann", "role": "admin"})).json()
        async with socket(server, "/ws/stream", bearer(user_token("ann"))) as ws:
            await eventually(lambda: server.hub.subscriber_count() == 1)
            assert (await b.delete(f"/api/v1/members/{theirs['id']}")).status_code == 204
            await still_open(ws)


async def test_a_stream_opened_with_access_that_just_ended_is_refused(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    """Checked as it opens, after it subscribes: a credential read just before its
    revocation cannot slip a stream in between."""
    key_id, key = await new_key(client)
    principal = await server.app.state.authenticator.authenticate(key)
    await client.delete(f"/api/v1/api-keys/{key_id}")
    streams = server.app.state.streams

    with pytest.raises(Unauthenticated, match="revoked"):
        await streams.workspace_feed(principal.workspace_id, None, principal)

    assert server.hub.subscriber_count() == 0


async def test_an_end_event_tells_an_event_source_why_its_credential_stopped(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(client)
    # Time enough for a loaded machine to open the stream before the key expires.
    brief = await issue_workspace_key(
        server.app.state.db, "brief", "viewer", expires_at=utcnow() + timedelta(seconds=3)
    )

    async with sse(server, run_id, bearer(brief.plaintext)) as (response, events):
        assert response.status_code == 200, "the key expired before the stream opened"
        async with asyncio.timeout(15):
            found = [event async for event in events if not event.comments]

    assert found[-1].event == "end"
    assert json.loads(found[-1].data)["code"] == 1008
