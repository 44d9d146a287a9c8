"""Who may open a stream: browser origins, credentials offered as a subprotocol or a query
parameter (kept out of the logs), workspace scoping, and credentials that expire."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from websockets.exceptions import ConnectionClosed

from tests.events.clients import gate, history, receive, socket, until_closed
from tests.runs import publish, start, wait_for
from tests.waiting import eventually
from towpath.auth.stream_tokens import StreamTokens
from towpath.domain.clock import utcnow
from towpath.services.api_keys import issue_workspace_key
from towpath.storage.secrets import server_secret

if TYPE_CHECKING:
    import httpx

    from tests.events.conftest import LiveServer


async def waiting_run(client: httpx.AsyncClient) -> tuple[str, str]:
    workflow_id = await publish(client, gate())
    run_id: str = (await start(client, workflow_id))["id"]
    await wait_for(client, run_id, "waiting")
    return workflow_id, run_id


async def test_only_allowed_browser_origins_may_open_a_socket(
    server: LiveServer, auth_headers: dict[str, str]
) -> None:
    allowed = {**auth_headers, "Origin": "http://localhost:5173"}
    async with socket(server, "/ws/stream", allowed) as ws:
        assert await asyncio.wait_for(ws.recv(), 10) == '{"type":"ping"}'
        assert server.hub.subscriber_count() == 1

    foreign = {**auth_headers, "Origin": "https://elsewhere.example"}
    async with socket(server, "/ws/stream", foreign) as ws:
        with pytest.raises(ConnectionClosed):
            await receive(ws)
        assert (ws.close_code, ws.close_reason) == (4403, "origin not allowed")
    await server.subscribers_gone()


async def test_a_credential_offered_as_a_subprotocol_gets_only_the_protocol_back(
    server: LiveServer, auth_headers: dict[str, str]
) -> None:
    async with socket(
        server, "/ws/stream", auth_headers, subprotocols=["towpath.bearer", "a-token"]
    ) as ws:
        assert ws.subprotocol == "towpath.bearer"


async def _stream_token(client: httpx.AsyncClient) -> str:
    made = await client.post("/api/v1/stream-tokens")
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


async def _refused(
    server: LiveServer, path: str, headers: dict[str, str], **options: object
) -> int:
    async with socket(server, path, headers, **options) as ws:
        with pytest.raises(ConnectionClosed):
            await receive(ws)
        code = ws.close_code
        assert code is not None, "closed without a close frame"
        return code


async def test_a_stream_token_in_the_query_string_opens_a_stream_and_is_not_logged(
    server: LiveServer, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    _, run_id = await waiting_run(client)
    token = await _stream_token(client)

    async with socket(server, f"/ws/runs/{run_id}?token={token}&after=1", {}) as ws:
        assert (await receive(ws))["seq"] == 2

    assert "[accepted]" in caplog.text
    assert f"/ws/runs/{run_id}?after=1" in caplog.text
    assert token not in caplog.text


async def test_a_stream_token_offered_as_a_subprotocol_gets_only_the_protocol_back(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    token = await _stream_token(client)
    async with socket(server, "/ws/stream", {}, subprotocols=["towpath.bearer", token]) as ws:
        assert ws.subprotocol == "towpath.bearer"
        assert await asyncio.wait_for(ws.recv(), 10) == '{"type":"ping"}'


async def test_sockets_without_a_good_credential_are_refused(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    _, run_id = await waiting_run(client)
    api_key = auth_headers["Authorization"].removeprefix("Bearer ")
    path = f"/ws/runs/{run_id}"

    assert await _refused(server, path, {}) == 4401
    assert await _refused(server, path, {"Authorization": "Bearer tp_nothing_here"}) == 4401
    # A long-lived key does not belong in a URL: only a stream token may travel there.
    assert await _refused(server, f"{path}?token={api_key}", {}) == 4401
    assert await _refused(server, f"{path}?token=tps_forged.signature", {}) == 4401
    async with socket(server, path, {"X-API-Key": api_key}) as ws:
        assert (await receive(ws))["type"] == "snapshot"


async def test_an_expired_stream_token_opens_nothing(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    principal = await server.app.state.authenticator.authenticate(
        client.headers["Authorization"].removeprefix("Bearer ")
    )
    secret = await server_secret(server.app.state.db, "stream_tokens")
    # Made by the server's own key five minutes ago: a minute's token, long expired.
    earlier = StreamTokens(secret, timedelta(seconds=60), lambda: utcnow() - timedelta(minutes=5))
    stale = earlier.issue(principal).token

    assert await _refused(server, f"/ws/stream?token={stale}", {}) == 4401
    fresh = StreamTokens(secret, timedelta(seconds=60), utcnow).issue(principal).token
    async with socket(server, f"/ws/stream?token={fresh}", {}) as ws:
        assert await asyncio.wait_for(ws.recv(), 10) == '{"type":"ping"}'


async def test_runs_and_workflows_of_another_workspace_are_not_found(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    workflow_id, run_id = await waiting_run(client)
    theirs = await issue_workspace_key(server.app.state.db, "theirs", "admin", workspace="other")
    other = {"Authorization": f"Bearer {theirs.plaintext}"}

    for path in (f"/ws/runs/{run_id}", f"/ws/workflows/{workflow_id}"):
        assert await _refused(server, path, other) == 4404
    async with socket(server, "/ws/stream", other) as ws:
        await eventually(lambda: server.hub.subscriber_count() == 1, what="the stream subscribed")
        await client.post(f"/api/v1/runs/{run_id}/cancel")
        # Only pings: the other workspace's events never reach this stream.
        assert await asyncio.wait_for(ws.recv(), 10) == '{"type":"ping"}'


async def test_a_stream_closes_when_its_credential_expires(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    _, run_id = await waiting_run(client)
    # Time enough for a loaded machine to open both sockets before the key expires.
    brief = await issue_workspace_key(
        server.app.state.db, "brief", "viewer", expires_at=utcnow() + timedelta(seconds=3)
    )
    headers = {"Authorization": f"Bearer {brief.plaintext}"}

    async with (
        socket(server, f"/ws/runs/{run_id}", headers) as one_run,
        socket(server, "/ws/stream", headers) as everything,
    ):
        assert (await receive(one_run))["type"] == "snapshot"
        await until_closed(one_run, 15)
        await until_closed(everything, 15)
        assert one_run.close_code == everything.close_code == 1008
    assert len(await history(client, run_id)) > 0
    await server.subscribers_gone()


async def test_an_api_key_offered_as_a_subprotocol_opens_a_stream(
    server: LiveServer, auth_headers: dict[str, str]
) -> None:
    api_key = auth_headers["Authorization"].removeprefix("Bearer ")
    async with socket(server, "/ws/stream", {}, subprotocols=["towpath.bearer", api_key]) as ws:
        assert ws.subprotocol == "towpath.bearer"
        assert await asyncio.wait_for(ws.recv(), 10) == '{"type":"ping"}'
    forged = ["towpath.bearer", "tp_nothing_here"]
    async with socket(server, "/ws/stream", {}, subprotocols=forged) as ws:
        with pytest.raises(ConnectionClosed):
            await receive(ws)
        assert ws.close_code == 4401
