"""When the application stops its streams, open sockets are closed with 1001."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from tests.events.clients import socket, until_closed
from tests.events.conftest import serving
from tests.waiting import eventually
from towpath.app import create_app

if TYPE_CHECKING:
    from towpath.config import Settings


async def test_stopping_the_application_closes_streams_going_away(
    settings: Settings, auth_headers: dict[str, str]
) -> None:
    app = create_app(settings)
    async with serving(app) as server:
        running = AsyncExitStack()
        await running.enter_async_context(app.router.lifespan_context(app))
        async with running, socket(server, "/ws/stream", auth_headers) as ws:
            await eventually(lambda: server.hub.subscriber_count() == 1)
            # The lifespan ends first, while the server still holds the socket open.
            await running.aclose()
            await until_closed(ws, 5)
            assert (ws.close_code, ws.close_reason) == (1001, "the server is stopping")
