"""Who may open a stream: browser origins, credentials offered as a subprotocol or a query
parameter (kept out of the logs), workspace scoping, and credentials that expire."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from websockets.exceptions import ConnectionClosed

from tests.events.clients import gate, history, receive, socket, until_closed
from tests.runs import publish, start, wait_for
from towpath.auth.principal import Principal
from towpath.domain.clock import utcnow
from towpath.storage.models import Workspace

if TYPE_CHECKING:
    from datetime import datetime

    import httpx

    from tests.events.conftest import LiveServer


@dataclass(frozen=True)
class ExpiringPrincipal(Principal):
    expires_at: datetime


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
        assert await asyncio.wait_for(ws.recv(), 3) == '{"type":"ping"}'
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


async def test_a_token_in_the_query_string_is_not_logged(
    server: LiveServer,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.error")
    _, run_id = await waiting_run(client)
    async with socket(server, f"/ws/runs/{run_id}?token=s3cret-value&after=1", auth_headers) as ws:
        assert (await receive(ws))["seq"] == 2
    assert "[accepted]" in caplog.text
    assert f"/ws/runs/{run_id}?after=1" in caplog.text
    assert "s3cret-value" not in caplog.text


async def test_runs_and_workflows_of_another_workspace_are_not_found(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    workflow_id, run_id = await waiting_run(client)
    async with server.app.state.db.transaction() as session:
        elsewhere = Workspace(name="elsewhere", slug="elsewhere")
        session.add(elsewhere)
    server.app.state.local_principal = Principal("other", elsewhere.id, "admin")

    for path in (f"/ws/runs/{run_id}", f"/ws/workflows/{workflow_id}"):
        async with socket(server, path, auth_headers) as ws:
            with pytest.raises(ConnectionClosed):
                await receive(ws)
            assert ws.close_code == 4404
    async with socket(server, "/ws/stream", auth_headers) as ws:
        await asyncio.sleep(0.1)
        await client.post(f"/api/v1/runs/{run_id}/cancel")
        # Only pings: the other workspace's events never reach this stream.
        assert await asyncio.wait_for(ws.recv(), 2) == '{"type":"ping"}'


async def test_a_stream_closes_when_its_credential_expires(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    _, run_id = await waiting_run(client)
    local: Principal = server.app.state.local_principal
    expiring = ExpiringPrincipal(
        local.subject, local.workspace_id, local.role, utcnow() + timedelta(seconds=0.4)
    )
    server.app.state.local_principal = expiring

    async with (
        socket(server, f"/ws/runs/{run_id}", auth_headers) as one_run,
        socket(server, "/ws/stream", auth_headers) as everything,
    ):
        assert (await receive(one_run))["type"] == "snapshot"
        await until_closed(one_run, 3)
        await until_closed(everything, 3)
        assert one_run.close_code == everything.close_code == 1008
    assert len(await history(client, run_id)) > 0
    await server.subscribers_gone()
