"""SQLite reads on the event loop's own thread, for the API's read transactions.

aiosqlite runs every call on a thread of its own: a read of two statements is a dozen
hand-offs between threads (cursor, execute, fetch, close, begin, commit, reset), and they,
not SQLite, were most of what a `GET` cost. In WAL mode a reader never waits for a lock,
so a read statement is tens of microseconds of SQLite: run here, it costs less than one
hand-off. These connections refuse writes (`query_only`): a write that waited for the
writer's lock would hold the event loop.

The classes answer what SQLAlchemy's aiosqlite dialect asks of an aiosqlite connection.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Iterable, Mapping, Sequence


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, rows: Iterable[Any]) -> _Cursor:
        self._cursor.executemany(sql, rows)
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self.arraysize)

    async def close(self) -> None:
        self._cursor.close()


class _Calls:
    """Where the dialect queues a call for aiosqlite's thread: it runs at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, call = item
        try:
            future.set_result(call())
        except sqlite3.Error as exc:  # to whoever awaits the call, as aiosqlite hands it
            future.set_exception(exc)


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # The dialect checks `_connection` for a live connection; aiosqlite's `_tx` queue.
        self._connection: sqlite3.Connection | None = conn
        self._tx = _Calls()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Cursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def inline_connector(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: `args` and `kwargs` are what the
    dialect would pass to `sqlite3.connect` (`dialect.create_connect_args(url)`)."""

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(*args, **kwargs))

    return connect
