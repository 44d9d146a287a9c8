"""On PostgreSQL a committed run event notifies listeners, once per run per transaction."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="LISTEN/NOTIFY is PostgreSQL's")


async def test_committed_events_notify_once_per_run(postgres_url: str) -> None:
    url = make_url(postgres_url)
    listener = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    writer = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    heard: asyncio.Queue[str] = asyncio.Queue()
    try:
        await listener.add_listener("towpath_run_events", lambda *args: heard.put_nowait(args[3]))
        await writer.execute("TRUNCATE workspaces, workflows, runs, run_events CASCADE")
        await writer.execute(
            "INSERT INTO workspaces (id, name, slug, created_at) VALUES ('w1', 'w', 'w', now())"
        )
        await writer.execute(
            "INSERT INTO workflows (id, workspace_id, lineage_id, name, description, version,"
            " status, definition, created_at, updated_at)"
            " VALUES ('wf', 'w1', 'wf', 'n', '', 1, 'published', '{}', now(), now())"
        )
        await writer.execute(
            "INSERT INTO runs (id, workspace_id, workflow_id, status, trigger_type, input,"
            " context, last_seq, created_at, updated_at)"
            " VALUES ('r1', 'w1', 'wf', 'running', 'manual', '{}', '{}', 0, now(), now())"
        )
        async with writer.transaction():
            for seq in (1, 2, 3):
                await writer.execute(
                    "INSERT INTO run_events (workspace_id, run_id, seq, event_type, data,"
                    " created_at) VALUES ('w1', 'r1', $1, 'step.queued', '{}', now())",
                    seq,
                )
            await asyncio.sleep(0.1)
            assert heard.empty(), "nothing is heard before the commit"

        assert await asyncio.wait_for(heard.get(), 5) == "w1 r1"
        await asyncio.sleep(0.1)
        assert heard.empty(), "three events in one transaction are one notification"
    finally:
        await listener.close()
        await writer.close()
