"""Schedule rows and their ticks: the reads behind the API and the scheduler, and the
statements a tick's transaction writes (the same text on SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from towpath.domain.errors import Conflict, NotFound
from towpath.domain.ids import new_id
from towpath.storage.models import Run, Schedule, ScheduleFire, Workflow
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.scoped import get_scoped

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"created_at": Schedule.created_at, "name": Schedule.name}
FIRES_SORTABLE = {"scheduled_at": ScheduleFire.scheduled_at}
# A paused run is still going: its tick stays in flight until it ends.
IN_FLIGHT = ("pending", "running", "waiting", "paused")


class ScheduleNotFound(NotFound):
    code = "SCHEDULE_NOT_FOUND"

    def __init__(self, schedule_id: str) -> None:
        super().__init__(f"schedule {schedule_id!r} not found", details={"id": schedule_id})


class ScheduleNameTaken(Conflict):
    code = "SCHEDULE_NAME_TAKEN"

    def __init__(self, name: str) -> None:
        super().__init__(f"a schedule is already named {name!r}", details={"name": name})


async def get_schedule(
    session: AsyncSession, workspace_id: str, schedule_id: str, *, for_update: bool = False
) -> Schedule:
    return await get_scoped(
        session, Schedule, workspace_id, schedule_id, ScheduleNotFound, for_update=for_update
    )


async def find_by_name(session: AsyncSession, workspace_id: str, name: str) -> Schedule | None:
    stmt = select(Schedule).where(Schedule.workspace_id == workspace_id, Schedule.name == name)
    found: Schedule | None = await session.scalar(stmt.with_for_update())
    return found


async def list_schedules(
    session: AsyncSession, workspace_id: str, page: PageRequest
) -> Page[Schedule]:
    stmt = select(Schedule).where(Schedule.workspace_id == workspace_id)
    return await paginate(session, stmt, page, SORTABLE, "-created_at", tiebreak=Schedule.id)


async def add_schedule(session: AsyncSession, schedule: Schedule) -> Schedule:
    session.add(schedule)
    await session.flush()
    return schedule


async def delete_schedule(session: AsyncSession, schedule: Schedule) -> None:
    # Explicit: SQLite enforces ON DELETE CASCADE only with its foreign-key pragma.
    await session.execute(delete(ScheduleFire).where(ScheduleFire.schedule_id == schedule.id))
    await session.delete(schedule)
    await session.flush()


async def recent_fires(session: AsyncSession, schedule_id: str, count: int) -> list[ScheduleFire]:
    stmt = (
        select(ScheduleFire)
        .where(ScheduleFire.schedule_id == schedule_id)
        .order_by(ScheduleFire.scheduled_at.desc())
        .limit(count)
    )
    return list(await session.scalars(stmt))


async def list_fires(
    session: AsyncSession, schedule_id: str, page: PageRequest
) -> Page[ScheduleFire]:
    stmt = select(ScheduleFire).where(ScheduleFire.schedule_id == schedule_id)
    return await paginate(
        session, stmt, page, FIRES_SORTABLE, "-scheduled_at", tiebreak=ScheduleFire.id
    )


async def due_schedules(session: AsyncSession, now: datetime, limit: int) -> list[Schedule]:
    stmt = (
        select(Schedule)
        .where(Schedule.paused.is_(False), Schedule.next_due_at <= now)
        .order_by(Schedule.next_due_at)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def with_buffered_ticks(session: AsyncSession) -> list[Schedule]:
    waiting = select(ScheduleFire.schedule_id).where(ScheduleFire.outcome == "buffered")
    stmt = select(Schedule).where(Schedule.paused.is_(False), Schedule.id.in_(waiting))
    return list(await session.scalars(stmt))


@dataclass(frozen=True)
class EndedFire:
    fire_id: str
    schedule_id: str
    run_id: str
    status: str
    error: str | None


async def ended_fires(session: AsyncSession) -> list[EndedFire]:
    """Ticks whose run has ended since they were last looked at."""
    stmt = (
        select(ScheduleFire.id, ScheduleFire.schedule_id, Run.id, Run.status, Run.error)
        .join(Run, Run.id == ScheduleFire.run_id)
        .where(ScheduleFire.in_flight.is_(True), Run.status.not_in(IN_FLIGHT))
    )
    return [EndedFire(*row) for row in (await session.execute(stmt)).all()]


async def fire_count(session: AsyncSession, schedule_id: str) -> int:
    stmt = select(func.count()).where(ScheduleFire.schedule_id == schedule_id)
    return int(await session.scalar(stmt) or 0)


# A tick's transaction. Taking the tick moves the schedule on only from the tick this
# process read: another process that took it first has moved it, and this one changes
# nothing (on PostgreSQL the UPDATE waits for the other's commit and then matches no row).
TAKE_TICK = (
    "UPDATE schedules SET next_fire_at = ?, next_due_at = ?, updated_at = ?"
    " WHERE id = ? AND next_fire_at = ? AND paused = ?"
)
LOCK_SCHEDULE = "SELECT id, paused FROM schedules WHERE id = ? {lock}"
INSERT_FIRE = (
    "INSERT INTO schedule_fires (id, workspace_id, schedule_id, scheduled_at, source, outcome,"
    " run_id, run_status, in_flight, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (schedule_id, scheduled_at) DO NOTHING"
)
FIRE_STARTED = (
    "UPDATE schedule_fires SET outcome = 'started', run_id = ?, in_flight = ?, detail = NULL"
    " WHERE id = ? AND outcome IN ('buffered', 'pending')"
)
FIRE_OUTCOME = "UPDATE schedule_fires SET outcome = ?, detail = ? WHERE id = ?"
RUN_SCHEDULED_AT = "UPDATE runs SET scheduled_at = ? WHERE id = ?"
# Runs of this schedule still going, and the oldest tick waiting for them to end.
RUNS_IN_FLIGHT = (
    "SELECT runs.id FROM schedule_fires JOIN runs ON runs.id = schedule_fires.run_id"
    " WHERE schedule_fires.schedule_id = ? AND schedule_fires.in_flight = ?"
    " AND runs.status IN ('pending', 'running', 'waiting', 'paused')"
)
BUFFERED = (
    "SELECT id, scheduled_at, source FROM schedule_fires"
    " WHERE schedule_id = ? AND outcome = 'buffered' ORDER BY scheduled_at"
)
SETTLE_FIRE = (
    "UPDATE schedule_fires SET in_flight = ?, run_status = ? WHERE id = ? AND in_flight = ?"
)
PAUSE = (
    "UPDATE schedules SET paused = ?, paused_reason = ?, updated_at = ?"
    " WHERE id = ? AND paused = ? AND pause_on_failure = ?"
)


class TickTaken(Conflict):
    code = "SCHEDULE_TICK_TAKEN"

    def __init__(self, moment: datetime) -> None:
        super().__init__(
            "a tick of this schedule at this moment was already taken",
            details={"scheduled_at": moment.isoformat()},
        )


def new_schedule_id() -> str:
    return new_id()


async def newest_published(
    session: AsyncSession, workspace_id: str, lineage_id: str
) -> Workflow | None:
    """The version a schedule that follows the lineage would run now, if any."""
    stmt = select(Workflow).where(
        Workflow.workspace_id == workspace_id,
        Workflow.lineage_id == lineage_id,
        Workflow.status == "published",
        Workflow.deleted_at.is_(None),
    )
    found: Workflow | None = await session.scalar(stmt.order_by(Workflow.version.desc()).limit(1))
    return found
