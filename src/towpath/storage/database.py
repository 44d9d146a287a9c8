"""The database handle: engine, connection settings and the unit of work."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from towpath.storage.sqlite_reads import SQLiteReaders

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from sqlalchemy.engine import Connection


T = TypeVar("T")

# A transaction left open by a process that stopped (SIGSTOP, a debugger, a host that
# froze) holds its row locks until the process wakes: no other worker could take its steps
# over when their leases ran out. PostgreSQL ends such a session after this long; no
# transaction of towpath's waits on anything but the database itself.
POSTGRES_SESSION_SETTINGS = {"idle_in_transaction_session_timeout": "30000"}


def answer_bounds(command_timeout: float | None) -> dict[str, float]:
    """asyncpg's arguments that bound a statement and a new connection by `command_timeout`
    (none: a statement waits as long as it takes, a connection asyncpg's own 60 s)."""
    if command_timeout is None:
        return {}
    return {"command_timeout": command_timeout, "timeout": command_timeout}


class Database:
    """Owns the engine. `transaction()` is the unit of work; query functions only flush."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "FULL",
        pool_timeout: float = 30.0,
        command_timeout: float | None = None,
    ) -> None:
        """`command_timeout` (PostgreSQL): how long a statement may go unanswered before it
        fails with TimeoutError (an OSError: the database is taken to be away); None waits
        as long as it takes, as migrations must."""
        self.url = url
        self.sqlite_synchronous = sqlite_synchronous
        self.command_timeout = command_timeout
        self.is_sqlite = url.startswith("sqlite")
        connect_args: dict[str, Any] = {}
        if not self.is_sqlite:
            connect_args = {
                "server_settings": POSTGRES_SESSION_SETTINGS,
                **answer_bounds(command_timeout),
            }
        self.engine = create_async_engine(
            url,
            pool_pre_ping=not self.is_sqlite,
            pool_timeout=pool_timeout,
            connect_args=connect_args,
        )
        self._readers: SQLiteReaders | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine.sync_engine, sqlite_synchronous)
            self._readers = SQLiteReaders(
                url, lambda engine: _configure_sqlite(engine, sqlite_synchronous)
            )
        # On SQLite a writer takes the write lock at BEGIN: a deferred transaction that
        # upgrades later fails at once with SQLITE_BUSY instead of waiting its turn.
        self._writer = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        # READ COMMITTED would let two statements of one read see different commits.
        self._consistent = async_sessionmaker(
            self.engine.execution_options(isolation_level="REPEATABLE READ"),
            expire_on_commit=False,
        )
        # SQLite has one writer at a time. Queueing writers here is far cheaper than letting
        # them collide on the file lock, where SQLite's busy handler sleeps milliseconds.
        self._write_turn = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commits when the block ends, rolls back if it raises."""
        if self._write_turn is None:
            async with self._writer() as session, session.begin():
                yield session
            return
        async with self._write_turn, self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session, session.begin():
            yield session

    async def reading(
        self, read: Callable[..., Awaitable[T]], *args: Any, consistent: bool = False
    ) -> T:
        """`read(session, *args)` in one read transaction, the cheapest way there is: on a
        SQLite file, whole on a reader thread. With `consistent`, all its statements see
        the same committed state (always so on SQLite, whose reads keep their snapshot)."""
        if self._readers is not None:
            return await self._readers.run(read, *args)
        sessions = self._consistent if consistent else self._reader
        async with sessions() as session, session.begin():
            return await read(session, *args)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def alike(self) -> Database:
        """Another handle on the same database, with the same settings and a pool of its own."""
        return Database(
            self.url,
            sqlite_synchronous=self.sqlite_synchronous,
            command_timeout=self.command_timeout,
        )

    async def dispose(self) -> None:
        if self._readers is not None:
            await asyncio.to_thread(self._readers.close)
        await self.engine.dispose()


def _configure_sqlite(sync_engine: Any, synchronous: str) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is off; `_on_begin` issues ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
