"""A process whose every database connection stays busy past the pool's timeout (more
work than connections) sheds what it cannot serve: a request gets a 503 with Retry-After
in the error envelope, a stream opening then is closed with 1013; neither is a 500 or a
dropped connection, and both are served again once connections come free."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import pytest
from websockets.exceptions import ConnectionClosed

from tests.events.clients import eventually, receive, socket
from towpath.config import Settings

if TYPE_CHECKING:
    import httpx

    from tests.events.conftest import LiveServer
    from towpath.storage.database import Database


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        database_pool_timeout_seconds=0.3,
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
    )


async def test_a_process_out_of_connections_answers_503_and_1013(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str], db: Database
) -> None:
    pool = db.engine.pool
    async with AsyncExitStack() as held:
        # Every connection the pool may open, taken.
        for _ in range(pool.size() + pool._max_overflow):  # type: ignore[attr-defined]
            await held.enter_async_context(db.engine.connect())

        busy = await client.get("/api/v1/runs")
        async with socket(server, "/ws/stream", auth_headers) as ws:
            with pytest.raises(ConnectionClosed):
                await receive(ws)
            closed = (ws.close_code, ws.close_reason)

    assert busy.status_code == 503, busy.text
    assert busy.headers["Retry-After"] == "1"
    assert busy.json()["error_code"] == "SERVICE_UNAVAILABLE"
    assert set(busy.json()) == {"error_code", "message", "details", "request_id"}
    assert closed == (1013, "the server is busy; try again")
    assert (await client.get("/api/v1/runs")).status_code == 200
    async with socket(server, "/ws/stream", auth_headers):
        await eventually(lambda: server.hub.subscriber_count() == 1)
