"""Prepared statements, run by SQLite's reader threads on the driver, answer exactly what
SQLAlchemy answers for the same statements: the same values, of the same types, under the
same column names; a value they need and are not given is an error, never a NULL."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import bindparam, select

from tests.factories import edge, node
from tests.runs import publish, start, wait_for, wait_for_step
from towpath.storage import runs as queries
from towpath.storage.models import Run
from towpath.storage.pagination import PageRequest
from towpath.storage.prepared import prepared

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.storage.database import Database


def _rows(found: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in found]


async def _busy_workspace(client: httpx.AsyncClient) -> tuple[list[str], str]:
    """Runs with steps of every kind of row: outputs, a for_each's items, one waiting."""
    items = {"type": "transform", "config": {"output": {"twice": "{{ item * 2 }}"}}}
    definition = {
        "nodes": [
            node("prep", "transform", {"output": {"list": [1, 2, 3], "when": "now"}}),
            node("each", "for_each", {"items": "{{ prep.list }}", "step": items}),
            node("ask", "approval", {"message": "ship?"}),
        ],
        "edges": [edge("prep", "each"), edge("each", "ask")],
    }
    workflow_id = await publish(client, definition)
    run_ids = []
    for n in range(3):
        run = await start(client, workflow_id, {"n": n, "nested": {"a": [n, None]}})
        await wait_for_step(client, run["id"], "ask", "waiting")
        run_ids.append(run["id"])
    single = {"nodes": [node("t", "transform", {"output": {}})], "edges": []}
    done = await start(client, await publish(client, single))
    await wait_for(client, done["id"], "completed")
    return [*run_ids, done["id"]], (await client.get("/api/v1/me")).json()["workspace"]["id"]


async def test_prepared_reads_answer_what_sqlalchemy_answers(
    client: httpx.AsyncClient, db: Database
) -> None:
    """On PostgreSQL both sides are SQLAlchemy's: the comparison holds there trivially."""
    run_ids, workspace_id = await _busy_workspace(client)

    async def both(read: Any, *args: Any) -> tuple[Any, Any]:
        async with db.read() as session:  # SQLAlchemy's own execution
            expected = await read(session, *args)
        return await db.reading(read, *args), expected

    for run_id in run_ids:
        fast, slow = await both(queries.run_and_size, run_id, workspace_id)
        assert fast == slow
        fast, slow = await both(queries.step_glances, run_id)
        assert fast == slow
        assert len(fast) >= 1
        fast_steps, slow_steps = await both(queries.step_runs, run_id)
        assert _rows(fast_steps) == _rows(slow_steps)
        for fast_row, slow_row in zip(fast_steps, slow_steps, strict=True):
            assert fast_row._fields == slow_row._fields
            assert fast_row.started_at == slow_row.started_at
            assert fast_row.started_at is None or fast_row.started_at.tzinfo is not None
            assert type(fast_row.output) is type(slow_row.output)
        fast, slow = await both(queries.get_run, run_id, workspace_id)
        assert fast == slow

    for status in (None, "waiting", "completed"):
        for sort in (None, "created_at", "-completed_at", "status"):
            page = PageRequest(page=1, per_page=2, sort=sort)
            read = partial(queries.list_runs, status=status)
            fast, slow = await both(read, workspace_id, page)
            assert fast == slow, (status, sort)


async def _named(session: AsyncSession) -> Any:
    statement = prepared(select(Run.id).where(Run.id == bindparam("run_id")))
    return (await session.execute(statement)).all()


async def _listed(session: AsyncSession) -> Any:
    statement = prepared(select(Run.id).where(Run.id.in_(["a", "b"])))
    return (await session.execute(statement)).all()


async def test_a_missing_value_or_an_expanding_list_is_refused(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("statements run on the driver by reader threads: SQLite only")
    with pytest.raises(KeyError, match="run_id"):
        await db.reading(_named)
    with pytest.raises(TypeError, match="IN list"):
        await db.reading(_listed)
