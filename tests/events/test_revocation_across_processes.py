"""PostgreSQL, many API processes: access revoked through one process closes the streams
another holds within a second, and a revocation sent while a process's notification
connection was down is found when it reconnects."""

from __future__ import annotations

import asyncio
import os
import signal
import socket as sockets
import sys
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import select, text, update

from tests.events.clients import receive, socket, until_closed
from tests.events.test_revocation import SECRET, bearer, new_key, user_token, waiting_run
from tests.waiting import eventually
from towpath.domain.clock import utcnow
from towpath.events.listener import APPLICATION_NAME
from towpath.storage.models import ApiKey

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.events.conftest import LiveServer
    from towpath.config import Settings
    from towpath.storage.database import Database


@pytest.fixture
def settings(settings: Settings) -> Settings:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("processes hear of each other's revocations through PostgreSQL")
    return settings.model_copy(update={"jwt_secret": SECRET})


def _free_port() -> int:
    with sockets.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def api_process(database_url: str) -> AsyncIterator[str]:
    """Another `towpath serve --no-worker` on the same database: its base URL."""
    port = _free_port()
    env = {**os.environ, "TOWPATH_DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "towpath", "serve", "--no-worker", "--port", str(port)],
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:

            async def ready() -> bool:
                try:
                    return (await http.get("/health/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            # A loaded machine (a CI runner, say) may take a while to start a process.
            await eventually(ready, 90, "the other API process ready")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await process.wait()


async def test_a_key_revoked_through_another_process_closes_its_stream_here(
    server: LiveServer,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    settings: Settings,
) -> None:
    key_id, key = await new_key(client)
    async with (
        api_process(settings.database_url) as elsewhere,
        socket(server, "/ws/stream", bearer(key)) as ws,
        # A process just started answers its first requests slowly on a loaded machine.
        httpx.AsyncClient(base_url=elsewhere, headers=auth_headers, timeout=30) as there,
    ):
        await eventually(lambda: server.hub.subscriber_count() == 1)
        revoked = await there.delete(f"/api/v1/api-keys/{key_id}")
        assert revoked.status_code == 200, revoked.text
        await until_closed(ws, 5.0)
        # This process forgot the key at once, not after its cache time.
        refused = await client.get("/api/v1/workflows", headers=bearer(key))

    assert (ws.close_code, ws.close_reason) == (4401, "the API key was revoked")
    assert refused.status_code == 401


async def test_a_member_removed_through_another_process_loses_its_stream_here(
    server: LiveServer,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    settings: Settings,
) -> None:
    added = await client.post("/api/v1/members", json={"subject": "ann", "role": "editor"})
    member_id = added.json()["id"]
    async with (
        api_process(settings.database_url) as elsewhere,
        socket(server, "/ws/stream", bearer(user_token("ann"))) as ws,
        # A process just started answers its first requests slowly on a loaded machine.
        httpx.AsyncClient(base_url=elsewhere, headers=auth_headers, timeout=30) as there,
    ):
        await eventually(lambda: server.hub.subscriber_count() == 1)
        lowered = await there.put(f"/api/v1/members/{member_id}", json={"role": "viewer"})
        assert lowered.status_code == 200

        async def refused_as_viewer() -> bool:
            tried = await client.post(
                "/api/v1/workflows", json={"name": "x"}, headers=bearer(user_token("ann"))
            )
            return tried.status_code == 403

        # This process hears of the lowered role at once (within 5 s on a loaded machine),
        # not after its 10 s cache time.
        await eventually(refused_as_viewer, seconds=5.0)
        assert (await there.delete(f"/api/v1/members/{member_id}")).status_code == 204
        await until_closed(ws, 5.0)

    assert (ws.close_code, ws.close_reason) == (4401, "the member was removed from the workspace")


@pytest.fixture
def slow_keepalive(settings: Settings) -> Settings:
    # The notification connection is checked every 3 s: long enough for a revocation to
    # be sent while it is down.
    return settings.model_copy(update={"stream_heartbeat_seconds": 3.0})


async def _listener_gone(db: Database) -> bool:
    async with db.read() as session:
        found: int = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
    return found == 0


@pytest.mark.usefixtures("slow_keepalive")
async def test_a_revocation_sent_while_the_listener_was_down_closes_the_stream(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(client)
    key_id, key = await new_key(client)
    db: Database = server.app.state.db
    async with socket(server, f"/ws/runs/{run_id}", bearer(key)) as ws:
        assert (await receive(ws))["type"] == "snapshot"
        async with db.transaction() as session:
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
        await eventually(lambda: _listener_gone(db))
        # Revoked as another process would: nobody here is told, and nobody listens.
        async with db.transaction() as session:
            await session.execute(
                update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow())
            )
        await until_closed(ws, 15)

    async with db.read() as session:
        assert await session.scalar(select(ApiKey.revoked_at).where(ApiKey.id == key_id))
    assert (ws.close_code, ws.close_reason) == (4401, "the API key was revoked")
