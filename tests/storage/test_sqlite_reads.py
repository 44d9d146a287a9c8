"""Reads given to `Database.reading`: on a SQLite file they run whole on a reader thread,
see what was committed, raise what the read raises, and leave the event loop free while
they run."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from towpath.storage.database import Database
from towpath.storage.runs import RunNotFound, get_run
from towpath.storage.sqlite_reads import DirectReadWaited

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncSession


async def _names(session: AsyncSession) -> tuple[list[str], str]:
    rows = await session.execute(text("SELECT name FROM t ORDER BY name"))
    return [name for (name,) in rows], threading.current_thread().name


async def _made(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE t (name TEXT)"))
        await session.execute(text("INSERT INTO t VALUES ('a'), ('b')"))


async def test_a_read_of_a_file_runs_on_a_reader_thread_and_sees_what_was_committed(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    try:
        await _made(db)
        names, thread = await db.reading(_names)
        assert names == ["a", "b"]
        assert thread.startswith("towpath-read")
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO t VALUES ('c')"))
        assert (await db.reading(_names))[0] == ["a", "b", "c"]
    finally:
        await db.dispose()


async def test_what_a_read_raises_reaches_the_caller(private_db: Database) -> None:
    with pytest.raises(RunNotFound, match="no-such-run"):
        await private_db.reading(get_run, "no-such-run", "any-workspace")


async def _waits(session: AsyncSession) -> None:
    await asyncio.sleep(0)


async def test_a_read_that_waits_on_anything_but_the_database_is_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'waits.db'}")
    try:
        with pytest.raises(DirectReadWaited):
            await db.reading(_waits)
    finally:
        await db.dispose()


async def _slow(session: AsyncSession) -> int:
    # A few hundred milliseconds of SQLite's own work.
    counted = await session.execute(
        text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
            " SELECT count(*) FROM n"
        )
    )
    return int(counted.scalar_one())


async def test_a_long_read_leaves_the_event_loop_free(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'long.db'}")
    try:
        began = time.monotonic()
        slow = asyncio.create_task(db.reading(_slow))
        ticks = 0
        longest = 0.0
        while not slow.done():
            before = time.monotonic()
            await asyncio.sleep(0.005)
            longest = max(longest, time.monotonic() - before)
            ticks += 1
        assert await slow == 3_000_000
        took = time.monotonic() - began
        # The loop went on ticking through the read: it was never held for its length.
        assert ticks >= 5
        assert longest < took / 2
    finally:
        await db.dispose()


async def test_a_read_whose_caller_went_away_ends_quietly(tmp_path: Path) -> None:
    """A caller cancelled while its read runs (a client that hung up) is not answered,
    and the read's end troubles neither the loop nor the next read."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'gone.db'}")
    troubles: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: troubles.append(context))
    try:
        slow = asyncio.create_task(db.reading(_slow))
        await asyncio.sleep(0.05)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        await _made(db)
        names, _ = await db.reading(_names)
        assert names == ["a", "b"]
    finally:
        # Closing waits for the cancelled read to end; its answer is dropped meanwhile.
        await db.dispose()
        await asyncio.sleep(0)
        loop.set_exception_handler(None)
    assert troubles == []
