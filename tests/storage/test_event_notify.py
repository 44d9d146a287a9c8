"""On PostgreSQL a committed run event notifies listeners, naming the event, at commit."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="LISTEN/NOTIFY is PostgreSQL's")


async def _connect(postgres_url: str) -> asyncpg.Connection:
    url = make_url(postgres_url)
    return await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )


@pytest.fixture
async def writer(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await _connect(postgres_url)
    await conn.execute("TRUNCATE workspaces, workflows, runs, run_events CASCADE")
    await conn.execute(
        "INSERT INTO workspaces (id, name, slug, created_at) VALUES ('w1', 'w', 'w', now())"
    )
    await conn.execute(
        "INSERT INTO workflows (id, workspace_id, lineage_id, name, description, version,"
        " status, definition, created_at, updated_at)"
        " VALUES ('wf', 'w1', 'wf', 'n', '', 1, 'published', '{}', now(), now())"
    )
    await conn.execute(
        "INSERT INTO runs (id, workspace_id, workflow_id, status, trigger_type, input,"
        " context, last_seq, created_at, updated_at)"
        " VALUES ('r1', 'w1', 'wf', 'running', 'manual', '{}', '{}', 0, now(), now())"
    )
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def heard(postgres_url: str) -> AsyncIterator[asyncio.Queue[str]]:
    listener = await _connect(postgres_url)
    queue: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener("towpath_run_events", lambda *args: queue.put_nowait(args[3]))
    try:
        yield queue
    finally:
        await listener.close()


async def _insert(writer: asyncpg.Connection, seq: int) -> None:
    await writer.execute(
        "INSERT INTO run_events (workspace_id, run_id, seq, event_type, data, created_at)"
        " VALUES ('w1', 'r1', $1, 'step.queued', '{}', now())",
        seq,
    )


async def test_each_committed_event_is_named_in_order_at_commit(
    writer: asyncpg.Connection, heard: asyncio.Queue[str]
) -> None:
    async with writer.transaction():
        for seq in (1, 2, 3):
            await _insert(writer, seq)
        # Time for a notification to arrive were one sent: an absence has no event to await.
        await asyncio.sleep(0.1)
        assert heard.empty(), "nothing is heard before the commit"

    got = [await asyncio.wait_for(heard.get(), 5) for _ in range(3)]
    assert got == ["w1 wf r1 1", "w1 wf r1 2", "w1 wf r1 3"]


async def test_a_rolled_back_event_is_never_heard(
    writer: asyncpg.Connection, heard: asyncio.Queue[str]
) -> None:
    with pytest.raises(RuntimeError):
        async with writer.transaction():
            await _insert(writer, 1)
            raise RuntimeError("roll back")
    await _insert(writer, 1)

    assert await asyncio.wait_for(heard.get(), 5) == "w1 wf r1 1"
    # Time for the rolled-back event to arrive were it sent: an absence has no event to await.
    await asyncio.sleep(0.1)
    assert heard.empty()
