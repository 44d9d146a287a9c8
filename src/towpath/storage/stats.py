"""Run statistics computed by the database: counts, durations, percentiles, token sums.

SQLite has no percentile function, so the 95th percentile is read by rank (ORDER BY and
OFFSET) on both databases: the nearest-rank definition, one indexed query.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal, select

from towpath.domain.states import RUN_TERMINAL
from towpath.storage.models import Run, StepRun
from towpath.storage.pagination import Page, PageRequest, UnknownSortField

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

_TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens")


def seconds_between(session: AsyncSession, start: Any, end: Any) -> ColumnElement[Any]:
    """`end - start` in seconds, in the session's SQL dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


@dataclass(frozen=True)
class RunDurations:
    count: int
    min: float | None
    avg: float | None
    p95: float | None
    max: float | None


@dataclass(frozen=True)
class WorkflowStats:
    by_status: dict[str, int]
    durations: RunDurations


async def workflow_stats(
    session: AsyncSession,
    workspace_id: str,
    workflow_id: str,
    since: datetime,
    until: datetime,
    lineage_id: str | None = None,
) -> WorkflowStats:
    """The runs of one version, or with `lineage_id` of every version of that lineage."""
    of_workflow = (
        Run.workflow_id == workflow_id if lineage_id is None else Run.lineage_id == lineage_id
    )
    window = and_(
        Run.workspace_id == workspace_id,
        of_workflow,
        Run.created_at >= since,
        Run.created_at < until,
    )
    counted = await session.execute(
        select(Run.status, func.count()).where(window).group_by(Run.status)
    )
    by_status = {status: count for status, count in counted}
    duration = seconds_between(session, Run.started_at, Run.completed_at)
    finished = and_(window, Run.status.in_(sorted(RUN_TERMINAL)), Run.started_at.is_not(None))
    row = (
        await session.execute(
            select(func.count(), func.min(duration), func.avg(duration), func.max(duration)).where(
                finished
            )
        )
    ).one()
    count = int(row[0] or 0)
    p95 = None
    if count:
        rank = math.ceil(0.95 * count)
        p95 = await session.scalar(
            select(duration).where(finished).order_by(duration).offset(rank - 1).limit(1)
        )
    durations = RunDurations(count, _num(row[1]), _num(row[2]), _num(p95), _num(row[3]))
    return WorkflowStats(by_status, durations)


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def _tokens(name: str) -> ColumnElement[Any]:
    # Only llm steps' outputs carry usage; another step's output may hold anything at all.
    found = StepRun.output[("usage", name)].as_integer()
    return case((StepRun.step_type == "llm", found), else_=literal(None))


async def step_metrics(
    session: AsyncSession, run_id: str, page: PageRequest
) -> Page[dict[str, Any]]:
    duration = seconds_between(session, StepRun.started_at, StepRun.completed_at)
    queued = seconds_between(session, StepRun.created_at, StepRun.started_at)
    sortable: dict[str, Any] = {
        "created_at": StepRun.created_at,
        "step_id": StepRun.step_id,
        "duration_seconds": duration,
    }
    sort = page.sort or "created_at"
    column = sortable.get(sort.removeprefix("-"))
    if column is None:
        raise UnknownSortField(sort.removeprefix("-"), sorted(sortable))
    order = column.desc() if sort.startswith("-") else column.asc()
    stmt = (
        select(
            StepRun.step_id,
            StepRun.item_index,
            StepRun.step_type,
            StepRun.status,
            StepRun.attempt.label("attempts"),
            queued.label("queued_seconds"),
            duration.label("duration_seconds"),
            *(_tokens(name).label(name) for name in _TOKENS),
        )
        .where(StepRun.run_id == run_id)
        .order_by(order, StepRun.step_id, StepRun.item_index)
        .offset((page.page - 1) * page.per_page)
        .limit(page.per_page)
    )
    total = await session.scalar(
        select(func.count()).select_from(StepRun).where(StepRun.run_id == run_id)
    )
    rows = [dict(row._mapping) for row in await session.execute(stmt)]
    return Page(items=rows, total=int(total or 0))


async def run_totals(session: AsyncSession, run_id: str) -> dict[str, Any]:
    row = (
        await session.execute(
            select(
                func.count().label("steps"),
                func.coalesce(func.sum(StepRun.attempt), 0).label("attempts"),
                *(func.sum(_tokens(name)).label(name) for name in _TOKENS),
            ).where(StepRun.run_id == run_id)
        )
    ).one()
    return dict(row._mapping)
