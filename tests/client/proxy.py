"""A TCP proxy in front of a live server that a test can cut: every connection through it
ends at once, as when a network or a load balancer drops it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class Proxy:
    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.connections = 0
        self._open: list[asyncio.StreamWriter] = []
        self.url = ""

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._open += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def cut(self) -> None:
        """End every connection open now, without a close frame."""
        for writer in self._open:
            writer.transport.abort()
        self._open.clear()


@contextlib.asynccontextmanager
async def proxy_to(http_url: str) -> AsyncIterator[Proxy]:
    host, port = http_url.removeprefix("http://").split(":")
    proxy = Proxy(host, int(port))
    server = await asyncio.start_server(proxy._accept, "127.0.0.1", 0)
    proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield proxy
    finally:
        proxy.cut()
        server.close()
        await server.wait_closed()
