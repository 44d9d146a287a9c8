"""A real server for stream tests: the test's app served by uvicorn on a free port, in the
test's own event loop, so a test can read the app's state while clients are connected."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import uvicorn

from tests.waiting import eventually
from towpath.api.websocket_protocol import CoalescingWebSocketProtocol
from towpath.config import KEEP_ALIVE_SECONDS

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from towpath.config import Settings
    from towpath.events.hub import EventHub


@dataclass(frozen=True)
class LiveServer:
    app: FastAPI
    http: str
    ws: str

    @property
    def hub(self) -> EventHub:
        hub: EventHub = self.app.state.event_hub
        return hub

    async def subscribers_gone(self, seconds: float = 5.0) -> None:
        """Until no subscription is left open."""
        await eventually(lambda: self.hub.subscriber_count() == 0, seconds)


@asynccontextmanager
async def serving(
    app: FastAPI, *, send_buffer: int | None = None, plain: bool = False
) -> AsyncIterator[LiveServer]:
    """Serves `app`, whose lifespan the caller runs. `send_buffer` shrinks the kernel's send
    buffer of every accepted socket, so a client that stops reading holds the server up.
    `plain` serves with uvicorn's own WebSocket protocol instead of the one `towpath
    serve` runs, as another ASGI server would."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        log_level="warning",
        # What `towpath serve` runs.
        ws="websockets-sansio" if plain else CoalescingWebSocketProtocol,
        ws_per_message_deflate=False,
        # A test's client may sit idle as long as httpx keeps a connection (5 s) between
        # two requests: the server must not be the one to close it then.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started)
        yield LiveServer(app, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Timers due within a test's patience, and idle streams pinged while a test watches.
    return settings.model_copy(update={"poll_seconds": 0.05, "stream_heartbeat_seconds": 0.5})


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[LiveServer]:
    async with serving(app) as live:
        yield live
