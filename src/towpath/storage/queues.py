"""What the queues of `task` steps hold: per queue, tasks ready and leased, the oldest
ready one's age, and the workers that polled lately; for the API and /metrics alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, func, or_, select

from towpath.domain.states import StepStatus
from towpath.storage.models import QueuePoller, QueueTask, StepRun

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import QueryableAttribute

# A worker that polled within this long counts as one of a queue's workers.
WORKER_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class QueueFigures:
    workspace_id: str
    name: str
    ready: int = 0
    leased: int = 0
    oldest_ready_age_seconds: float | None = None
    workers: int = 0
    last_poll_at: datetime | None = None


def _age(now: datetime, since: datetime | None) -> float | None:
    return None if since is None else round(max(0.0, (now - since).total_seconds()), 3)


def _scope(
    column_ws: QueryableAttribute[str],
    column_queue: QueryableAttribute[str],
    ws: str | None,
    q: str | None,
) -> list[ColumnElement[bool]]:
    found = []
    if ws is not None:
        found.append(column_ws == ws)
    if q is not None:
        found.append(column_queue == q)
    return found


async def queue_figures(
    session: AsyncSession, now: datetime, workspace_id: str | None = None, name: str | None = None
) -> list[QueueFigures]:
    """Every queue with open tasks or pollers (of one workspace, or all), by name."""
    ready = or_(QueueTask.status == "ready", QueueTask.lease_expires_at <= now)
    tasks = await session.execute(
        select(
            QueueTask.workspace_id,
            QueueTask.queue,
            func.sum(case((ready, 1), else_=0)),
            func.sum(case((ready, 0), else_=1)),
            func.min(case((ready, QueueTask.created_at))),
        )
        .join(
            StepRun,
            and_(StepRun.id == QueueTask.step_run_id, StepRun.attempt == QueueTask.attempt),
        )
        .where(
            QueueTask.status.in_(("ready", "leased")),
            StepRun.status == StepStatus.WAITING,
            *_scope(QueueTask.workspace_id, QueueTask.queue, workspace_id, name),
        )
        .group_by(QueueTask.workspace_id, QueueTask.queue)
    )
    since = now - WORKER_WINDOW
    pollers = await session.execute(
        select(
            QueuePoller.workspace_id,
            QueuePoller.queue,
            func.sum(case((QueuePoller.last_poll_at >= since, 1), else_=0)),
            func.max(QueuePoller.last_poll_at),
        )
        .where(*_scope(QueuePoller.workspace_id, QueuePoller.queue, workspace_id, name))
        .group_by(QueuePoller.workspace_id, QueuePoller.queue)
    )
    found: dict[tuple[str, str], QueueFigures] = {}
    for ws, queue, ready_count, leased_count, oldest in tasks:
        found[ws, queue] = QueueFigures(
            ws, queue, int(ready_count or 0), int(leased_count or 0), _age(now, oldest)
        )
    for ws, queue, workers, last_poll in pollers:
        base = found.get((ws, queue), QueueFigures(ws, queue))
        found[ws, queue] = QueueFigures(
            ws,
            queue,
            base.ready,
            base.leased,
            base.oldest_ready_age_seconds,
            int(workers or 0),
            last_poll,
        )
    return [found[key] for key in sorted(found)]


async def task_run(
    session: AsyncSession, workspace_id: str, queue: str, task_id: str
) -> str | None:
    """The run a task of this workspace and queue belongs to; None when there is none."""
    found: str | None = await session.scalar(
        select(QueueTask.run_id).where(
            QueueTask.id == task_id,
            QueueTask.workspace_id == workspace_id,
            QueueTask.queue == queue,
        )
    )
    return found
