"""Steps reuse an idle connection only while the servers they call still keep it: a POST
sent on a connection the server is closing is lost, and is not sent again (it may not be
safe to repeat)."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from tests import servers
from tests.servers import step_context
from towpath.steps.execution import Completed, EngineServices
from towpath.steps.http_request import HttpRequestConfig, execute

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import aiohttp

    from towpath.steps.execution import Outcome

http_client = servers.http_client

# uvicorn, Node.js, Apache and Hypercorn close a connection idle for 5 s.
SERVERS_IDLE_CLOSE = 5.0
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class ClosingServer:
    """Answers every request on a kept-alive connection, except one arriving when the
    connection has been idle for about the servers' 5 s: that one meets the server's
    close, as it does when the close and the request cross on the wire."""

    def __init__(self) -> None:
        self.connections = 0
        self.lost = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        idle_since = time.monotonic()
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                if time.monotonic() - idle_since >= SERVERS_IDLE_CLOSE - 0.2:
                    self.lost += 1
                    return
                writer.write(RESPONSE)
                await writer.drain()
                idle_since = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@asynccontextmanager
async def closing_server() -> AsyncIterator[tuple[ClosingServer, str]]:
    server = ClosingServer()
    listening = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server, f"http://127.0.0.1:{port}/orders"


async def post(client: aiohttp.ClientSession, url: str) -> Outcome:
    config = HttpRequestConfig.model_validate({"method": "POST", "url": url, "body": {"n": 1}})
    return await execute(config, step_context(EngineServices(http=client)))


async def test_a_post_after_a_pause_as_long_as_servers_keep_idle_connections_completes(
    http_client: aiohttp.ClientSession,
) -> None:
    async with closing_server() as (server, url):
        assert isinstance(await post(http_client, url), Completed)
        await asyncio.sleep(SERVERS_IDLE_CLOSE - 0.1)

        outcome = await post(http_client, url)

        assert isinstance(outcome, Completed), outcome
        assert server.lost == 0
        assert server.connections == 2


async def test_calls_close_together_share_one_connection(
    http_client: aiohttp.ClientSession,
) -> None:
    async with closing_server() as (server, url):
        for _ in range(3):
            assert isinstance(await post(http_client, url), Completed)
            await asyncio.sleep(0.2)

        assert server.connections == 1
