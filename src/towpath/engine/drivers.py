"""Driving a transition against a database: SQLite in one writer thread here, PostgreSQL
over asyncpg in `postgres.py`. Each transition is one transaction and, on SQLite, one
thread hop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.engine import make_url

from towpath.engine.sql import Dialect, Execute, Fetch

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Generator

    from towpath.engine.sql import Op

T = TypeVar("T")


class TransitionDriver(Protocol):
    dialect: Dialect
    # What a transition may fail with for reasons of the database, not of the run.
    errors: tuple[type[BaseException], ...]

    async def run(self, transition: Callable[[], Generator[Op, Any, T]]) -> T: ...

    def notifications(
        self, channel: str, heard: Callable[[str], None]
    ) -> AbstractAsyncContextManager[bool]:
        """Hear what other processes NOTIFY on `channel` while the block runs; False
        where the database has no such thing (SQLite: one process writes)."""
        ...

    async def close(self) -> None: ...


class SqliteDriver:
    """One connection, one thread: writers queue in Python, never on the file lock.

    Transitions that arrive while the thread is busy are committed together (group
    commit): each runs in its own savepoint, so one that fails rolls back alone, and no
    caller hears of its result before the shared COMMIT has succeeded.
    """

    errors: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)

    def __init__(self, path: str, synchronous: str, max_group: int = 64) -> None:
        self.dialect = Dialect("sqlite")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="towpath-sqlite")
        self._path = path
        self._synchronous = synchronous
        self._max_group = max_group
        self._conn: sqlite3.Connection | None = None
        self._queue: list[_Queued] = []
        self._guard = threading.Lock()
        self._draining = False

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            # A transition's savepoint keeps the pages it changes (a step's result changes
            # about 16): on disk, that is a temporary file made, written and removed in
            # every transaction, which cost more than the statements themselves.
            conn.execute("PRAGMA temp_store=MEMORY")
            self._conn = conn
        return self._conn

    async def run(self, transition: Callable[[], Generator[Op, Any, T]]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._guard:
            self._queue.append(_Queued(transition, future, loop))
            start = not self._draining
            self._draining = True
        if start:
            self._thread.submit(self._drain)
        return await future

    def _drain(self) -> None:
        try:
            while True:
                with self._guard:
                    group = self._queue[: self._max_group]
                    del self._queue[: self._max_group]
                    if not group:
                        return
                self._commit_group(group)
        finally:
            with self._guard:
                self._draining = False
                restart = bool(self._queue)
                self._draining = restart
            if restart:
                self._thread.submit(self._drain)

    def _commit_group(self, group: list[_Queued]) -> None:
        conn = self._connection()
        answers: list[tuple[_Queued, Any, BaseException | None]] = []
        # A transition alone needs no savepoint: if it fails, the transaction is rolled back.
        alone = len(group) == 1
        try:
            conn.execute("BEGIN IMMEDIATE")
            for queued in group:
                if not alone:
                    conn.execute("SAVEPOINT transition")
                try:
                    result = _drive(queued.transition(), conn)
                except Exception as exc:  # noqa: BLE001 - handed to its own caller below
                    conn.execute("ROLLBACK" if alone else "ROLLBACK TO transition")
                    answers.append((queued, None, exc))
                else:
                    answers.append((queued, result, None))
                if not alone:
                    conn.execute("RELEASE transition")
            if conn.in_transaction:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            answers = [(queued, None, exc) for queued in group]
        for queued, result, error in answers:
            queued.answer(result, error)

    @asynccontextmanager
    async def notifications(
        self, channel: str, heard: Callable[[str], None]
    ) -> AsyncIterator[bool]:
        yield False

    async def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._thread, shut)
        self._thread.shutdown(wait=True)


@dataclass(frozen=True)
class _Queued:
    transition: Callable[[], Generator[Op, Any, Any]]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop

    def answer(self, result: Any, error: BaseException | None) -> None:
        def settle() -> None:
            if self.future.done():
                return
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(settle)


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


async def connect_driver(
    url: str, synchronous: str, command_timeout: float | None = None
) -> TransitionDriver:
    if url.startswith("sqlite"):
        database = make_url(url).database or ""
        return SqliteDriver(database, synchronous)
    # Imported here: a process on the embedded default never loads the PostgreSQL driver.
    from towpath.engine.postgres import PostgresDriver

    return await PostgresDriver.connect(url, command_timeout=command_timeout)
