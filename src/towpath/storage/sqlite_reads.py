"""Reads of a SQLite file, each run whole on a thread of its own.

Through aiosqlite every driver call of a read (cursor, execute, fetch, close, begin,
commit, the pool's reset) is a hand-off to its thread and back, and SQLAlchemy's asyncio
layer adds a greenlet switch to each: a read of two statements cost ten times what SQLite
spends answering it. Here a read's whole transaction is one hand-off: a reader thread runs
the read, written against AsyncSession like every other, over SQLAlchemy's synchronous
connection to a plain sqlite3 one (with a session only for a read of entities, and the
prepared statements of `storage.prepared` run on the driver itself), where nothing ever
has to wait. The serving loop never waits on SQLite, and SQLite's own work (it lets go of
the GIL) runs beside it."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import FromClause, Select, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from towpath.storage import prepared

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


class DirectReadWaited(RuntimeError):
    """A read given to the reader threads awaited something other than the database."""


class SQLiteReaders:
    """`threads` reader threads sharing a pool of as many connections."""

    def __init__(self, url: str, configure: Callable[[Any], None], threads: int = 2) -> None:
        engine = create_engine(
            make_url(url).set(drivername="sqlite+pysqlite"),
            pool_size=threads,
            # Closed at shutdown by another thread, once no read is running.
            connect_args={"check_same_thread": False},
        )
        configure(engine)
        self._engine = engine
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="towpath-read")

    async def run(self, read: Callable[..., Awaitable[T]], *args: Any) -> T:
        """`read(session, *args)` in one read transaction on a reader thread. The answer
        comes back in one call made thread-safe, not by chaining the executor's future to
        the loop's: that chaining was as much of the loop's time as the read's own."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()
        self._threads.submit(self._answer, loop, answer, read, args)
        return await answer

    def _answer(
        self,
        loop: asyncio.AbstractEventLoop,
        answer: asyncio.Future[T],
        read: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
    ) -> None:
        try:
            value = self._run(read, args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller waiting on it
            loop.call_soon_threadsafe(_settle, answer, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, answer, value, None)

    def _run(self, read: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        with self._engine.connect() as connection, connection.begin():
            direct = _DirectSession(connection)
            try:
                session = cast("AsyncSession", direct)
                return _finish(cast("Coroutine[Any, Any, T]", read(session, *args)))
            finally:
                direct.close()

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._engine.dispose()


class _DirectSession:
    """What reads use of AsyncSession, over a synchronous connection: each call is done by
    the time it returns, so a read's coroutine runs to its end without an event loop. The
    ORM's session, joined to the connection's transaction, is made only for a read that
    selects entities: its beginning and end cost as much as a small read's statements."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._session: Session | None = None

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        rows = self._prepared(statement, args, kwargs)
        if rows is not None:
            return rows
        return self._executor(statement).execute(statement, *args, **kwargs)

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        return self._executor(statement).scalars(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        rows = self._prepared(statement, args, kwargs)
        if rows is not None:
            return rows.scalar()
        return self._executor(statement).scalar(statement, *args, **kwargs)

    def _prepared(
        self, statement: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> prepared.Rows | None:
        """A prepared statement's rows, run on the driver; None for any other statement,
        or one given more than its parameters (execution options)."""
        if kwargs or len(args) > 1 or not prepared.is_prepared(statement):
            return None
        return prepared.run(self._connection, statement, *args)

    def _executor(self, statement: Any) -> Session | Connection:
        """The session where rows become objects (an entity is selected); the connection
        where they are only columns, which skips the ORM's work on each statement (half of
        a small read)."""
        if not _selects_entities(statement):
            return self._connection
        if self._session is None:
            self._session = Session(bind=self._connection, expire_on_commit=False)
        return self._session

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        return self._connection.engine

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


@functools.lru_cache(maxsize=512)
def _selects_entities(statement: Any) -> bool:
    """Asked once per statement: the run reads' statements are built once, with bound
    parameters, and one asked again costs a dictionary lookup, not a walk of its columns."""
    return isinstance(statement, Select) and any(
        _is_entity(selected) for selected in statement._raw_columns
    )


def _is_entity(selected: Any) -> bool:
    # An entity is selected as its mapped table, annotated with its mapper.
    return isinstance(selected, FromClause) and "parententity" in selected._annotations


def _settle(answer: asyncio.Future[T], value: T | None, error: BaseException | None) -> None:
    if answer.cancelled():
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(cast("T", value))


def _finish(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast("T", done.value)
    coroutine.close()
    raise DirectReadWaited("a read on a reader thread may await the database only")
