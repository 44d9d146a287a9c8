"""Driving transitions on PostgreSQL over asyncpg, and hearing what other processes NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from asyncpg import Record
from sqlalchemy.engine import make_url

from towpath.engine.sql import TRANSACTION_NOW, Dialect, Execute, ExecuteMany, Fetch, numbered
from towpath.storage.database import POSTGRES_SESSION_SETTINGS, answer_bounds

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Generator

    from asyncpg.pool import PoolConnectionProxy

    from towpath.engine.sql import Op

T = TypeVar("T")
log = logging.getLogger("towpath.engine")


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    return numbered(sql)


class PostgresDriver:
    errors: tuple[type[BaseException], ...] = (
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        OSError,
    )
    # How often a listening connection is tried; it must answer within as long.
    listen_keepalive = 10.0

    def __init__(self, connect_args: dict[str, Any]) -> None:
        self.dialect = Dialect("postgresql")
        self._connect_args = connect_args
        self._pool: asyncpg.Pool | None = None
        # The server processes behind our own connections: what they NOTIFY, we know.
        self.own_pids: set[int] = set()

    @classmethod
    async def connect(
        cls, url: str, size: int = 10, command_timeout: float | None = None
    ) -> PostgresDriver:
        parsed = make_url(url)
        driver = cls(
            {
                "host": parsed.host,
                "port": parsed.port,
                "user": parsed.username,
                "password": parsed.password,
                "database": parsed.database,
                # A transaction on a connection gone silent fails instead of waiting forever.
                **answer_bounds(command_timeout),
            }
        )
        driver._pool = await asyncpg.create_pool(
            **driver._connect_args,
            server_settings=POSTGRES_SESSION_SETTINGS,
            min_size=1,
            max_size=size,
            init=driver._init_connection,
            reset=_leave_as_it_is,
        )
        return driver

    async def _init_connection(self, conn: asyncpg.Connection) -> None:
        for kind in ("json", "jsonb"):
            await conn.set_type_codec(
                kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )
        self.own_pids.add(conn.get_server_pid())

    async def run(self, transition: Callable[[], Generator[Op, Any, T]]) -> T:
        if self._pool is None:
            raise RuntimeError("the driver is closed")
        async with self._pool.acquire() as conn, conn.transaction():
            gen = transition()
            sent: Any = None
            began: Any = None
            while True:
                try:
                    op = gen.send(sent)
                except StopIteration as done:
                    result: T = done.value
                    return result
                if op is TRANSACTION_NOW:
                    began = sent = began or await _run_pg(conn, op)
                    continue
                sent = await _run_pg(conn, op)

    @asynccontextmanager
    async def notifications(
        self, channel: str, heard: Callable[[str], None]
    ) -> AsyncIterator[bool]:
        """A connection of its own LISTENs on `channel` for the block, coming back after a
        drop; `heard` gets each payload another process sent. After a reconnection it also
        gets an empty payload: what was sent meanwhile is lost, so look again."""
        task = asyncio.create_task(self._listen(channel, heard))
        try:
            yield True
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self, channel: str, heard: Callable[[str], None]) -> None:
        def on_notify(_conn: object, pid: int, _channel: str, payload: object) -> None:
            if pid not in self.own_pids:
                heard(str(payload))

        reconnected = False
        while True:
            try:
                await self._listen_once(channel, on_notify, heard if reconnected else None)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("listening on %s stopped; trying again", channel, exc_info=True)
            reconnected = True
            await asyncio.sleep(0.5)

    async def _listen_once(
        self, channel: str, on_notify: Callable[..., None], catch_up: Callable[[str], None] | None
    ) -> None:
        """Listen on one connection until it is lost; after a reconnection, say so once
        listening has started again."""
        conn = await asyncpg.connect(**self._connect_args)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(channel, on_notify)
            if catch_up is not None:
                catch_up("")
            # A connection that went silent (a partition, a host gone without a reset)
            # shows only when it is used: notifications would stop with no sign.
            while True:
                try:
                    await asyncio.wait_for(lost.wait(), self.listen_keepalive)
                    return
                except TimeoutError:
                    await conn.fetchval("SELECT 1", timeout=self.listen_keepalive)
        finally:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await asyncio.shield(conn.close(timeout=2))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _run_pg(conn: PoolConnectionProxy[Record], op: Op) -> Any:
    if isinstance(op, Fetch):
        return [tuple(row) for row in await conn.fetch(_pg_sql(op.sql), *op.params)]
    if isinstance(op, Execute):
        status = await conn.execute(_pg_sql(op.sql), *op.params)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0
    if isinstance(op, ExecuteMany):
        await conn.executemany(_pg_sql(op.sql), op.rows)
    return None


async def _leave_as_it_is(conn: asyncpg.Connection) -> None:
    """What a connection needs when it goes back to the pool: nothing. The engine's
    transactions leave no session state behind (no SET, LISTEN, cursor or advisory lock;
    notifications have connections of their own), and asyncpg rolls back a transaction
    left open before it calls this. Its default reset query would cost every transaction
    one more round trip."""
