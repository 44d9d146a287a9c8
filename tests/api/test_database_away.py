"""A request that cannot reach the database (restarting, failing over, cut off) is a 503
with Retry-After in the error envelope, not a 500: a client may send it again.

The app reaches PostgreSQL through a TCP forwarder the test cuts, as a restart would:
live connections dropped, new ones refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from tests.runs import API
from tests.waiting import eventually
from towpath.config import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx


class Forwarder:
    """127.0.0.1:port -> PostgreSQL; `cut` drops every connection and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.open: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.open:
            writer.transport.abort()
        self.open.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self.open += [writer, up_writer]
        await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer))


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.close()


@pytest.fixture
async def forwarder(database_url: str) -> AsyncIterator[Forwarder]:
    if not database_url.startswith("postgresql"):
        pytest.skip("a network connection to cut: PostgreSQL only")
    url = make_url(database_url)
    found = Forwarder(url.host or "127.0.0.1", url.port or 5432)
    await found.start()
    yield found
    if found.server is not None:
        found.server.close()


@pytest.fixture
def settings(database_url: str, forwarder: Forwarder) -> Settings:
    through = make_url(database_url).set(host="127.0.0.1", port=forwarder.port)
    return Settings(
        database_url=through.render_as_string(hide_password=False),
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
    )


async def test_a_request_while_the_database_is_away_is_a_503_to_send_again(
    client: httpx.AsyncClient, forwarder: Forwarder
) -> None:
    assert (await client.get(f"{API}/workflows")).status_code == 200

    await forwarder.cut()
    answer = await client.get(f"{API}/workflows")

    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    body = answer.json()
    assert set(body) == {"error_code", "message", "details", "request_id"}
    assert body["error_code"] == "SERVICE_UNAVAILABLE"

    await forwarder.start()

    async def answered() -> bool:
        return (await client.get(f"{API}/workflows")).status_code == 200

    await eventually(answered, 30, "the API answering again once the database is back")
