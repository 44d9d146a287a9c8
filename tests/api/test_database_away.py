"""A request that cannot reach the database (restarting, failing over, cut off) is a 503
with Retry-After in the error envelope, not a 500: a client may send it again.

The app reaches PostgreSQL through a TCP forwarder the test cuts, as a restart would:
live connections dropped, new ones refused. Or the forwarder holds the app's side of a
connection open after the server closed it, so the app reads the server's farewell
before it learns of the closing: a restart under load does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.factories import node
from tests.runs import API, publish
from tests.waiting import eventually
from towpath.config import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import httpx


class Forwarder:
    """127.0.0.1:port -> PostgreSQL; `cut` drops every connection and refuses new ones.
    While `holding`, a connection the server closes stays open on the app's side (what
    the server sent before closing is delivered) until `cut`. While `frozen`, nothing
    passes either way and nothing is closed: a network partition, as each side sees it."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.open: list[asyncio.StreamWriter] = []
        self.holding = False
        self.frozen = False

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
        # Known at once: a cut while this connects upstream must drop it too.
        self.open.append(writer)
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        if writer.transport.is_closing():
            up_writer.transport.abort()
            return
        self.open.append(up_writer)
        await asyncio.gather(
            _copy(reader, up_writer, frozen=lambda: self.frozen),
            _copy(up_reader, writer, lambda: self.holding, frozen=lambda: self.frozen),
        )


async def _copy(
    source: asyncio.StreamReader,
    sink: asyncio.StreamWriter,
    holding: Callable[[], bool] = lambda: False,
    *,
    frozen: Callable[[], bool] = lambda: False,
) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await source.read(65536):
            if frozen():
                continue  # lost on the way
            sink.write(data)
            await sink.drain()
    if not holding():
        sink.close()


@asynccontextmanager
async def forwarding(database_url: str, what: str) -> AsyncIterator[Forwarder]:
    """A Forwarder to the test's PostgreSQL, started, and cut at the end; on SQLite the
    test is skipped, saying it needs `what`."""
    if not database_url.startswith("postgresql"):
        pytest.skip(f"{what}: PostgreSQL only")
    url = make_url(database_url)
    found = Forwarder(url.host or "127.0.0.1", url.port or 5432)
    await found.start()
    try:
        yield found
    finally:
        found.frozen = False
        await found.cut()


@pytest.fixture
async def forwarder(database_url: str) -> AsyncIterator[Forwarder]:
    async with forwarding(database_url, "a network connection to cut") as found:
        yield found


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


async def _terminate_connections(database_url: str) -> None:
    """What a restart does to each connection: the server says FATAL, then closes it."""
    dsn = make_url(database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()


async def test_a_connection_the_database_is_closing_is_a_503_not_a_500(
    client: httpx.AsyncClient, forwarder: Forwarder, database_url: str
) -> None:
    # A run start goes through the engine's own connections as well as the app's.
    definition = {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}
    workflow_id = await publish(client, definition)
    start = f"{API}/workflows/{workflow_id}/run"
    assert (await client.post(start, json={"input": {}})).status_code == 201

    # The start must meet the server's FATAL on a connection it reuses. On a loaded machine
    # the round can miss it: the start may go through a new connection and succeed, or
    # send its statement after the FATAL was read, into the held socket, where it waits
    # (until the cut below). Such a round proves nothing, so it is played again.
    answers: list[int] = []
    answer: httpx.Response | None = None
    forwarder.holding = True
    try:
        for _ in range(5):
            await _terminate_connections(database_url)
            try:
                answer = await asyncio.wait_for(client.post(start, json={"input": {}}), 10)
            except TimeoutError:
                answers.append(0)
                continue
            answers.append(answer.status_code)
            if answer.status_code != 201:
                break
    finally:
        forwarder.holding = False
        await forwarder.cut()

    assert 500 not in answers, answers
    assert answer is not None, answers
    assert answer.status_code == 503, (answers, answer.text)
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["error_code"] == "SERVICE_UNAVAILABLE"

    await forwarder.start()

    async def started() -> bool:
        return (await client.post(start, json={"input": {}})).status_code == 201

    await eventually(started, 30, "a run starting again once the connections are closed")
