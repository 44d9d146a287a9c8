"""The counts /metrics reports at scrape time: only unfinished work, over indexed columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from towpath.domain.clock import utcnow
from towpath.domain.states import STEP_ACTIVE, RunStatus, StepStatus
from towpath.storage.models import Run, StepRun
from towpath.storage.queues import QueueFigures, queue_figures

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.storage.database import Database

# IN lists, not NOT IN: the status indexes then read only the unfinished rows.
_RUN_UNFINISHED = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING, RunStatus.PAUSED)
_STEP_UNFINISHED = (StepStatus.PENDING, *sorted(STEP_ACTIVE))
_STEP_READY = (StepStatus.QUEUED, StepStatus.RETRYING)


@dataclass(frozen=True)
class Gauges:
    """Unfinished runs by status, unfinished steps by status and type, the queue's depth."""

    runs: dict[str, int]
    steps: dict[tuple[str, str], int]
    ready: int
    # The task queues of every workspace (storage/queues.py).
    queues: list[QueueFigures] = field(default_factory=list)


async def read_gauges(db: Database) -> Gauges:
    async with db.read() as session:
        runs = await unfinished_runs(session)
        steps = await unfinished_steps(session)
        now = utcnow()
        ready = await ready_steps(session, now)
        queues = await queue_figures(session, now)
    return Gauges(runs, steps, ready, queues)


async def unfinished_runs(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Run.status, func.count()).where(Run.status.in_(_RUN_UNFINISHED)).group_by(Run.status)
    )
    return {status: count for status, count in rows}


async def unfinished_steps(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(StepRun.status, StepRun.step_type, func.count())
        .where(StepRun.status.in_(_STEP_UNFINISHED))
        .group_by(StepRun.status, StepRun.step_type)
    )
    return {(status, step_type): count for status, step_type, count in rows}


async def ready_steps(session: AsyncSession, now: datetime) -> int:
    """Steps a worker could claim now: the queue's depth."""
    count = await session.scalar(
        select(func.count())
        .select_from(StepRun)
        .where(StepRun.status.in_(_STEP_READY), StepRun.available_at <= now)
    )
    return int(count or 0)
