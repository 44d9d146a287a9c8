"""Driving a transition against a database: SQLite in one writer thread, PostgreSQL over
asyncpg. Each transition is one transaction and, on SQLite, one thread hop."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import asyncpg
from asyncpg import Record
from sqlalchemy.engine import make_url

from towpath.engine.sql import Dialect, Execute, ExecuteMany, Fetch, numbered

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from asyncpg.pool import PoolConnectionProxy

    from towpath.engine.sql import Op

T = TypeVar("T")


class TransitionDriver(Protocol):
    dialect: Dialect

    async def run(self, transition: Callable[[], Generator[Op, Any, T]]) -> T: ...

    async def close(self) -> None: ...


class SqliteDriver:
    """One connection, one thread: writers queue in Python, never on the file lock."""

    def __init__(self, path: str, synchronous: str) -> None:
        self.dialect = Dialect("sqlite")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="towpath-sqlite")
        self._path = path
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            self._conn = conn
        return self._conn

    def _run_in_thread(self, transition: Callable[[], Generator[Op, Any, T]]) -> T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = _drive(transition(), conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def run(self, transition: Callable[[], Generator[Op, Any, T]]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._run_in_thread, transition)

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._thread, shut)
        self._thread.shutdown(wait=True)


def _drive(transition: Generator[Op, Any, T], conn: sqlite3.Connection) -> T:
    sent: Any = None
    while True:
        try:
            op = transition.send(sent)
        except StopIteration as done:
            result: T = done.value
            return result
        if isinstance(op, Fetch):
            sent = conn.execute(op.sql, op.params).fetchall()
        elif isinstance(op, Execute):
            sent = conn.execute(op.sql, op.params).rowcount
        else:
            conn.executemany(op.sql, op.rows)
            sent = None


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    return numbered(sql)


class PostgresDriver:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.dialect = Dialect("postgresql")
        self._pool = pool

    @classmethod
    async def connect(cls, url: str, size: int = 10) -> PostgresDriver:
        parsed = make_url(url)
        pool = await asyncpg.create_pool(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
            min_size=1,
            max_size=size,
            init=_init_connection,
        )
        return cls(pool)

    async def run(self, transition: Callable[[], Generator[Op, Any, T]]) -> T:
        async with self._pool.acquire() as conn, conn.transaction():
            gen = transition()
            sent: Any = None
            while True:
                try:
                    op = gen.send(sent)
                except StopIteration as done:
                    result: T = done.value
                    return result
                sent = await _run_pg(conn, op)

    async def close(self) -> None:
        await self._pool.close()


async def _run_pg(conn: PoolConnectionProxy[Record], op: Op) -> Any:
    if isinstance(op, Fetch):
        return [tuple(row) for row in await conn.fetch(_pg_sql(op.sql), *op.params)]
    if isinstance(op, Execute):
        status = await conn.execute(_pg_sql(op.sql), *op.params)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0
    if isinstance(op, ExecuteMany):
        await conn.executemany(_pg_sql(op.sql), op.rows)
    return None


async def connect_driver(url: str, synchronous: str) -> TransitionDriver:
    if url.startswith("sqlite"):
        database = make_url(url).database or ""
        return SqliteDriver(database, synchronous)
    return await PostgresDriver.connect(url)


# What a transition may fail with for reasons of the database, not of the run.
DATABASE_ERRORS = (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
