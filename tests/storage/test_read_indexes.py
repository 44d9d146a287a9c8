"""Listing runs stays fast as runs pile up: every filter and sort reads one index in order,
and a long list's count stops at a bound and says it is a lower bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, insert, inspect, select, text

from tests.factories import node
from tests.runs import API, publish
from towpath.domain.ids import new_id
from towpath.storage.migrate import downgrade, upgrade
from towpath.storage.models import Run, Workflow
from towpath.storage.pagination import COUNT_BEYOND_PAGE, PageRequest
from towpath.storage.runs import list_runs, outputs
from towpath.storage.workspaces import ensure_workspace

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.storage.database import Database

DONE = {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}
NEW = {
    "ix_runs_workspace_id_created_at_id",
    "ix_runs_workspace_id_workflow_id_created_at_id",
    "ix_runs_workspace_id_status_created_at_id",
    "ix_runs_workspace_id_workflow_id_status_created_at_id",
    "ix_runs_workspace_id_status_id",
    "ix_runs_workspace_id_completed_at_id",
    "ix_runs_workspace_id_completed_at_desc",
    "ix_step_runs_run_id_status",
}
REPLACED = {"ix_runs_workspace_id", "ix_runs_workspace_id_workflow_id_created_at"}
DAY = datetime(2026, 11, 1, tzinfo=UTC)
WINDOW = {"since": DAY, "until": DAY + timedelta(days=1)}
LISTS: list[tuple[dict[str, Any], str | None]] = [
    ({}, None),
    ({"workflow_id": "w"}, None),
    ({"status": "failed"}, None),
    (WINDOW, None),
    ({"workflow_id": "w", "status": "failed"}, None),
    ({"workflow_id": "w", **WINDOW}, None),
    ({"status": "failed", **WINDOW}, None),
    ({"workflow_id": "w", "status": "failed", **WINDOW}, None),
    *(({}, sort) for sort in ("created_at", "completed_at", "-completed_at", "status", "-status")),
]


async def _plans(session: AsyncSession, call: Callable[[], Awaitable[object]]) -> list[str]:
    """The database's plan of each statement `call` issues, in order."""
    plans: list[str] = []
    postgres = session.get_bind().dialect.name == "postgresql"
    explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        cursor.execute(explain + statement, params)
        plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))

    connection = await session.connection()
    event.listen(connection.sync_connection, "before_cursor_execute", capture)
    try:
        await call()
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", capture)
    return plans


async def _without_scans_or_sorts(session: AsyncSession) -> bool:
    """On PostgreSQL, forbid what an index spares a large table (an empty one is cheaper to
    scan whatever its indexes); whether the database is PostgreSQL."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    for setting in ("seqscan", "bitmapscan", "sort", "incremental_sort"):
        await session.execute(text(f"SET LOCAL enable_{setting} = off"))
    return True


@pytest.mark.parametrize(("filters", "sort"), LISTS)
async def test_every_list_of_runs_reads_an_index_in_its_order(
    db: Database, filters: dict[str, Any], sort: str | None
) -> None:
    async with db.read() as session:
        postgres = await _without_scans_or_sorts(session)
        workspace = await ensure_workspace(session)
        count, page = await _plans(
            session, lambda: list_runs(session, workspace.id, PageRequest(sort=sort), **filters)
        )

    if postgres:
        # Which index an empty table's count reads is a toss-up: only the page's is sure.
        assert "Sort" not in page and "Seq Scan" not in page, page
        assert "Seq Scan" not in count, count
    else:
        assert "TEMP B-TREE" not in page and "SEARCH runs USING" in page, page
        assert "SEARCH runs USING COVERING INDEX" in count, count


async def test_a_runs_outputs_are_read_by_its_id(db: Database) -> None:
    async with db.read() as session:
        postgres = await _without_scans_or_sorts(session)
        (plan,) = await _plans(session, lambda: outputs(session, "some-run"))

    if postgres:
        condition = next(line for line in plan.splitlines() if "Index Cond" in line)
        assert "(run_id)::text = 'some-run'" in condition, plan
    else:
        assert "USING INDEX ix_step_runs_run_id_status (run_id=? AND status=?)" in plan, plan


async def _fill(
    db: Database, workflow_id: str, count: int, status: str, hours_ago: int = 24
) -> list[str]:
    """`count` runs, one a second from `hours_ago`; their ids newest first."""
    async with db.read() as session:
        workspace_id = await session.scalar(
            select(Workflow.workspace_id).where(Workflow.id == workflow_id)
        )
    moment = datetime.now(UTC) - timedelta(hours=hours_ago)
    rows: list[dict[str, Any]] = [
        {
            "id": new_id(),
            "workspace_id": workspace_id,
            "workflow_id": workflow_id,
            "status": status,
            "trigger_type": "manual",
            "input": {},
            "context": {},
            "last_seq": 0,
            "created_at": moment + timedelta(seconds=n),
            "updated_at": moment,
        }
        for n in range(count)
    ]
    async with db.transaction() as session:
        await session.execute(insert(Run), rows)
    return [row["id"] for row in reversed(rows)]


async def test_a_long_list_counts_to_a_bound_past_the_page_and_says_so(
    client: httpx.AsyncClient, db: Database
) -> None:
    workflow_id = await publish(client, DONE)
    newest_first = await _fill(db, workflow_id, COUNT_BEYOND_PAGE + 45, "completed")
    failed = await _fill(db, workflow_id, 3, "failed", hours_ago=1)

    first = await client.get(f"{API}/runs")
    deep = await client.get(f"{API}/runs", params={"page": 3, "per_page": 100})
    few = await client.get(f"{API}/runs", params={"status": "failed"})

    assert first.headers["X-Total-Count"] == str(20 + COUNT_BEYOND_PAGE)
    assert first.headers["X-Total-Count-Exact"] == "false"
    assert [r["id"] for r in first.json()] == [*failed, *newest_first[:17]]
    # 300 + the bound is past every run: the count is exact again.
    assert deep.headers["X-Total-Count"] == str(COUNT_BEYOND_PAGE + 48)
    assert deep.headers["X-Total-Count-Exact"] == "true"
    assert [r["id"] for r in deep.json()] == newest_first[197:297]
    assert few.headers["X-Total-Count"] == "3"
    assert few.headers["X-Total-Count-Exact"] == "true"
    assert [r["id"] for r in few.json()] == failed


async def test_a_list_exactly_at_the_bound_is_exact(
    client: httpx.AsyncClient, db: Database
) -> None:
    workflow_id = await publish(client, DONE)
    await _fill(db, workflow_id, COUNT_BEYOND_PAGE + 1, "completed")

    page = await client.get(f"{API}/runs", params={"per_page": 1})

    assert page.headers["X-Total-Count"] == str(COUNT_BEYOND_PAGE + 1)
    assert page.headers["X-Total-Count-Exact"] == "true"


def _run_indexes(connection: Any) -> set[str]:
    found = inspect(connection)
    return {i["name"] for table in ("runs", "step_runs") for i in found.get_indexes(table)}


async def test_the_read_indexes_go_back_down_and_up_again(private_db: Database) -> None:
    async with private_db.engine.connect() as conn:
        at_head = await conn.run_sync(_run_indexes)
    await downgrade(private_db, "0004")
    async with private_db.engine.connect() as conn:
        before = await conn.run_sync(_run_indexes)
    await upgrade(private_db)
    async with private_db.engine.connect() as conn:
        again = await conn.run_sync(_run_indexes)

    assert at_head & NEW == NEW
    assert not at_head & REPLACED
    assert before & REPLACED == REPLACED
    assert not before & NEW
    assert again == at_head
