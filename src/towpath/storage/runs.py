"""Run, step-run, event and log queries, scoped to a workspace where a caller asks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from towpath.domain.errors import NotFound
from towpath.domain.states import StepStatus
from towpath.storage.models import Run, RunEvent, RunLog, StepRun
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.rows import RUN_COLUMNS, RunRow

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"created_at": Run.created_at, "status": Run.status, "completed_at": Run.completed_at}


class RunNotFound(NotFound):
    code = "RUN_NOT_FOUND"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id!r} not found", details={"id": run_id})


# A run is read as the engine writes it: one Python type for a run everywhere.
_RUN_FIELDS = [Run.__table__.c[name] for name in RUN_COLUMNS]


def run_row(row: Any) -> RunRow:
    return RunRow(*row)


async def get_run(session: AsyncSession, run_id: str, workspace_id: str | None = None) -> RunRow:
    stmt = select(*_RUN_FIELDS).where(Run.id == run_id)
    if workspace_id is not None:
        stmt = stmt.where(Run.workspace_id == workspace_id)
    found = (await session.execute(stmt)).first()
    if found is None:
        raise RunNotFound(run_id)
    return run_row(found)


async def list_runs(
    session: AsyncSession,
    workspace_id: str,
    page: PageRequest,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lineage_id: str | None = None,
) -> Page[RunRow]:
    stmt = select(*_RUN_FIELDS).where(Run.workspace_id == workspace_id)
    if workflow_id is not None:
        stmt = stmt.where(Run.workflow_id == workflow_id)
    if lineage_id is not None:
        stmt = stmt.where(Run.lineage_id == lineage_id)
    if status is not None:
        stmt = stmt.where(Run.status == status)
    if since is not None:
        stmt = stmt.where(Run.created_at >= since)
    if until is not None:
        stmt = stmt.where(Run.created_at < until)
    return await paginate(
        session, stmt, page, SORTABLE, "-created_at", tiebreak=Run.id, shape=run_row
    )


async def step_runs(session: AsyncSession, run_id: str) -> list[StepRun]:
    rows = await session.scalars(
        select(StepRun)
        .where(StepRun.run_id == run_id)
        .order_by(StepRun.created_at, StepRun.step_id, StepRun.item_index)
    )
    return list(rows)


async def outputs(session: AsyncSession, run_id: str) -> dict[str, Any]:
    """Each completed step's output under its node id: the run's context."""
    rows = await session.execute(
        select(StepRun.step_id, StepRun.output).where(
            StepRun.run_id == run_id,
            StepRun.item_index == -1,
            StepRun.status == StepStatus.COMPLETED,
        )
    )
    return {step_id: output for step_id, output in rows}


async def events_after(
    session: AsyncSession, run_id: str, after: int, limit: int
) -> list[RunEvent]:
    rows = await session.scalars(
        select(RunEvent)
        .where(RunEvent.run_id == run_id, RunEvent.seq > after)
        .order_by(RunEvent.seq)
        .limit(limit)
    )
    return list(rows)


async def logs_after(session: AsyncSession, run_id: str, after: int, limit: int) -> list[RunLog]:
    rows = await session.scalars(
        select(RunLog)
        .where(RunLog.run_id == run_id, RunLog.id > after)
        .order_by(RunLog.id)
        .limit(limit)
    )
    return list(rows)


async def waiting_for_event(session: AsyncSession, workspace_id: str) -> list[StepRun]:
    rows = await session.scalars(
        select(StepRun).where(
            StepRun.workspace_id == workspace_id,
            StepRun.status == StepStatus.WAITING,
            StepRun.step_type == "wait_for_event",
        )
    )
    return list(rows)
