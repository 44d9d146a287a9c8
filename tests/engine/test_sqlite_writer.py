"""SQLite's one writer: transitions queued together commit together, one that fails is
undone alone, and a transaction leaves no temporary file behind it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from towpath.engine.drivers import SqliteDriver
from towpath.engine.sql import execute, execute_many, fetch

if TYPE_CHECKING:
    from collections.abc import Generator

    from towpath.engine.sql import Op


class Refused(Exception):
    pass


@pytest.fixture
async def driver(tmp_path: Path) -> Any:
    made = SqliteDriver(str(tmp_path / "writer.db"), "FULL")

    def create() -> Generator[Op, Any, None]:
        yield from execute("CREATE TABLE notes (name TEXT PRIMARY KEY, body TEXT)")

    await made.run(create)
    yield made
    await made.close()


def note(name: str, *, fail: bool = False, hold: threading.Event | None = None) -> Any:
    def transition() -> Generator[Op, Any, str]:
        if hold is not None:
            hold.wait(timeout=10)
        yield from execute("INSERT INTO notes VALUES (?, ?)", name, "x" * 3000)
        if fail:
            raise Refused(name)
        return name

    return transition


async def names(driver: SqliteDriver) -> list[str]:
    def read() -> Generator[Op, Any, list[str]]:
        rows = yield from fetch("SELECT name FROM notes ORDER BY name")
        return [row[0] for row in rows]

    return await driver.run(read)


async def test_a_transition_that_fails_alone_leaves_nothing_and_the_next_one_commits(
    driver: SqliteDriver,
) -> None:
    with pytest.raises(Refused):
        await driver.run(note("lost", fail=True))
    assert await driver.run(note("kept")) == "kept"

    assert await names(driver) == ["kept"]


async def test_in_a_group_commit_the_one_that_fails_is_undone_and_the_others_are_kept(
    driver: SqliteDriver,
) -> None:
    hold = threading.Event()
    # The first holds the writer's thread, so the next three queue and commit as a group.
    first = asyncio.create_task(driver.run(note("a", hold=hold)))
    await asyncio.sleep(0.05)
    grouped = [
        asyncio.create_task(driver.run(note(name, fail=name == "c"))) for name in ("b", "c", "d")
    ]
    await asyncio.sleep(0.05)
    hold.set()

    answers = await asyncio.gather(first, *grouped, return_exceptions=True)

    assert answers[:2] == ["a", "b"]
    assert isinstance(answers[2], Refused)
    assert answers[3] == "d"
    assert await names(driver) == ["a", "b", "d"]


def temporary_files() -> list[str]:
    """The files SQLite made for itself that this process holds open (it unlinks them at
    once, so only /proc still shows them)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if "etilqs_" in target:
                found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")
async def test_a_transaction_of_many_pages_writes_no_temporary_file(tmp_path: Path) -> None:
    made = SqliteDriver(str(tmp_path / "pages.db"), "FULL")
    seen: list[str] = []
    try:

        def fill() -> Generator[Op, Any, None]:
            yield from execute("CREATE TABLE notes (name TEXT PRIMARY KEY, body TEXT)")
            rows = [(f"n{i:03}", "x" * 3000) for i in range(200)]
            yield from execute_many("INSERT INTO notes VALUES (?, ?)", rows)

        def rewrite() -> Generator[Op, Any, int]:
            # Every page holding a note changes: a savepoint keeps each one's old image.
            count = yield from execute("UPDATE notes SET body = upper(body) || ?", "y")
            seen.extend(temporary_files())
            return count

        await made.run(fill)
        hold = threading.Event()
        first = asyncio.create_task(made.run(note("first", hold=hold)))
        await asyncio.sleep(0.05)
        grouped = [asyncio.create_task(made.run(rewrite)) for _ in range(2)]
        await asyncio.sleep(0.05)
        hold.set()
        answers = await asyncio.gather(first, *grouped, return_exceptions=True)
    finally:
        await made.close()

    assert answers == ["first", 201, 201]
    assert seen == []
