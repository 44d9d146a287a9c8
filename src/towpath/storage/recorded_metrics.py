"""The named metrics runs record, and their summaries (min, max, avg, last) per name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from towpath.domain.errors import NotFound
from towpath.storage.models import RunMetric

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class MetricNotFound(NotFound):
    code = "METRIC_NOT_FOUND"

    def __init__(self, metric_id: str) -> None:
        super().__init__(f"metric {metric_id!r} not found", details={"id": metric_id})


@dataclass(frozen=True)
class MetricFilter:
    task_id: str | None = None
    run_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class MetricSummary:
    name: str
    count: int
    min: float
    max: float
    avg: float
    last: float


def _where(workspace_id: str, where: MetricFilter) -> list[object]:
    clauses: list[object] = [RunMetric.workspace_id == workspace_id]
    if where.task_id is not None:
        clauses.append(RunMetric.lineage_id == where.task_id)
    if where.run_id is not None:
        clauses.append(RunMetric.run_id == where.run_id)
    if where.name is not None:
        clauses.append(RunMetric.name == where.name)
    return clauses


async def list_metrics(
    session: AsyncSession, workspace_id: str, where: MetricFilter, skip: int, limit: int
) -> tuple[list[RunMetric], int]:
    stmt = select(RunMetric).where(*_where(workspace_id, where))  # type: ignore[arg-type]
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(RunMetric.created_at.desc(), RunMetric.id.desc()).offset(skip).limit(limit)
    return list((await session.scalars(page)).all()), total


async def get_metric(session: AsyncSession, workspace_id: str, metric_id: str) -> RunMetric:
    found: RunMetric | None = await session.scalar(
        select(RunMetric).where(RunMetric.id == metric_id, RunMetric.workspace_id == workspace_id)
    )
    if found is None:
        raise MetricNotFound(metric_id)
    return found


async def summaries(
    session: AsyncSession, workspace_id: str, where: MetricFilter
) -> list[MetricSummary]:
    """Per name: how many, the smallest, largest and mean, and the newest value."""
    clauses = _where(workspace_id, where)
    newest = (
        select(
            RunMetric.name,
            RunMetric.value,
            func.row_number()
            .over(
                partition_by=RunMetric.name,
                order_by=(RunMetric.created_at.desc(), RunMetric.id.desc()),
            )
            .label("rank"),
        )
        .where(*clauses)  # type: ignore[arg-type]
        .subquery()
    )
    stats = (
        select(
            RunMetric.name,
            func.count(),
            func.min(RunMetric.value),
            func.max(RunMetric.value),
            func.avg(RunMetric.value),
        )
        .where(*clauses)  # type: ignore[arg-type]
        .group_by(RunMetric.name)
        .subquery()
    )
    stmt = (
        select(stats, newest.c.value)
        .join(newest, (newest.c.name == stats.c.name) & (newest.c.rank == 1))
        .order_by(stats.c.name)
    )
    return [
        MetricSummary(str(name), int(count), float(low), float(high), float(mean), float(last))
        for name, count, low, high, mean, last in (await session.execute(stmt)).all()
    ]
