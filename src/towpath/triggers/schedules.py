"""Schedule use cases: create or update, read with the next fire times and last results,
pause and unpause, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.domain.json_schema import offline_validator
from towpath.engine.lifecycle import check_input
from towpath.services.audit import Change, record
from towpath.services.idempotency import KEYS_KEPT, made_once
from towpath.storage import schedules as queries
from towpath.storage.models import Schedule
from towpath.storage.workflows import get_workflow
from towpath.triggers.schedule_spec import ScheduleSpec, ScheduleSpecInvalid

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.models import ScheduleFire
    from towpath.storage.pagination import Page, PageRequest
    from towpath.triggers.overlap import Overlap

UPCOMING = 5
RECENT = 10
MAX_BACKFILL = 1000
ONE = timedelta(microseconds=1)


@dataclass(frozen=True)
class ScheduleInput:
    name: str
    workflow_id: str
    version_id: str | None
    spec: ScheduleSpec
    input: dict[str, Any]
    overlap: Overlap
    catchup_window_seconds: int
    pause_on_failure: bool


@dataclass(frozen=True)
class ScheduleView:
    schedule: Schedule
    upcoming: list[datetime]
    recent: list[ScheduleFire]


def _summary(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "workflow_id": schedule.workflow_id,
        "version_id": schedule.version_id,
        "spec": schedule.spec,
        "overlap": schedule.overlap,
        "paused": schedule.paused,
    }


async def _check_target(session: AsyncSession, caller: Principal, given: ScheduleInput) -> None:
    """The workflow exists here and has a published version to run (the pinned one, if
    one is pinned), whose input_schema the schedule's input fits: a schedule that could
    not start a run would fail at every tick."""
    workflow = await get_workflow(session, caller.workspace_id, given.workflow_id)
    if given.version_id is not None:
        version = await get_workflow(session, caller.workspace_id, given.version_id)
        if version.lineage_id != workflow.lineage_id:
            message = "the pinned version is not a version of the workflow"
            raise ScheduleSpecInvalid("version_id", message)
        if version.status != "published":
            raise ScheduleSpecInvalid("version_id", f"the pinned version is a {version.status}")
    else:
        newest = await queries.newest_published(session, caller.workspace_id, workflow.lineage_id)
        if newest is None:
            message = f"workflow {given.workflow_id!r} has no published version to run"
            raise ScheduleSpecInvalid("workflow_id", message)
        version = newest
    if version.input_schema:
        check_input(offline_validator(version.input_schema), given.input)


def _apply(schedule: Schedule, given: ScheduleInput, now: datetime) -> None:
    schedule.name = given.name
    schedule.workflow_id = given.workflow_id
    schedule.version_id = given.version_id
    schedule.spec = given.spec.document()
    schedule.timezone = given.spec.timezone
    schedule.input = given.input
    schedule.overlap = given.overlap.value
    schedule.catchup_window_seconds = given.catchup_window_seconds
    schedule.pause_on_failure = given.pause_on_failure
    _plan_from(schedule, given.spec, now)


def _plan_from(schedule: Schedule, spec: ScheduleSpec, now: datetime) -> None:
    """The next tick after now: a changed or unpaused schedule does not fire the past."""
    tick = spec.next_after(now)
    schedule.next_fire_at = tick
    schedule.next_due_at = tick + spec.jitter(schedule.id, tick) if tick else None


async def create(
    db: Database,
    caller: Principal,
    given: ScheduleInput,
    now: datetime | None = None,
    key: IdempotencyRequest | None = None,
    policy: IdempotencyPolicy = KEYS_KEPT,
) -> tuple[Schedule, bool]:
    """The new schedule; the bool says it was an earlier request's, by its key."""

    async def make(session: AsyncSession) -> str:
        await _check_target(session, caller, given)
        if await queries.find_by_name(session, caller.workspace_id, given.name) is not None:
            raise queries.ScheduleNameTaken(given.name)
        schedule = Schedule(workspace_id=caller.workspace_id, created_by=caller.subject)
        schedule.id = queries.new_schedule_id()
        _apply(schedule, given, now or utcnow())
        await queries.add_schedule(session, schedule)
        change = Change("schedule.create", "schedule", schedule.id, None, _summary(schedule))
        await record(session, caller, change)
        return schedule.id

    payload = {**vars(given), "spec": given.spec.document()}
    made = await made_once(db, caller, key, payload, policy, make)
    async with db.read() as session:
        schedule = await queries.get_schedule(session, caller.workspace_id, made.resource_id)
    return schedule, made.replayed


async def upsert(
    db: Database, caller: Principal, given: ScheduleInput, now: datetime | None = None
) -> tuple[Schedule, bool]:
    """The schedule of this name, made or changed; True when it was made."""
    async with db.transaction() as session:
        found = await queries.find_by_name(session, caller.workspace_id, given.name)
    if found is None:
        made, _ = await create(db, caller, given, now)
        return made, True
    return await update(db, caller, found.id, given, now), False


async def update(
    db: Database,
    caller: Principal,
    schedule_id: str,
    given: ScheduleInput,
    now: datetime | None = None,
) -> Schedule:
    async with db.transaction() as session:
        schedule = await queries.get_schedule(
            session, caller.workspace_id, schedule_id, for_update=True
        )
        await _check_target(session, caller, given)
        renamed = given.name != schedule.name
        if renamed and await queries.find_by_name(session, caller.workspace_id, given.name):
            raise queries.ScheduleNameTaken(given.name)
        before = _summary(schedule)
        _apply(schedule, given, now or utcnow())
        await session.flush()
        change = Change("schedule.update", "schedule", schedule.id, before, _summary(schedule))
        await record(session, caller, change)
    return schedule


async def list_schedules(db: Database, caller: Principal, page: PageRequest) -> Page[Schedule]:
    async with db.read() as session:
        return await queries.list_schedules(session, caller.workspace_id, page)


async def get(
    db: Database, caller: Principal, schedule_id: str, now: datetime | None = None
) -> ScheduleView:
    async with db.read() as session:
        schedule = await queries.get_schedule(session, caller.workspace_id, schedule_id)
        recent = await queries.recent_fires(session, schedule_id, RECENT)
    spec = ScheduleSpec.from_document(schedule.spec)
    if schedule.paused or schedule.next_fire_at is None:
        upcoming = spec.upcoming(now or utcnow(), UPCOMING)
    else:
        upcoming = spec.upcoming(schedule.next_fire_at - ONE, UPCOMING)
    return ScheduleView(schedule, upcoming, recent)


async def fires(
    db: Database, caller: Principal, schedule_id: str, page: PageRequest
) -> Page[ScheduleFire]:
    async with db.read() as session:
        await queries.get_schedule(session, caller.workspace_id, schedule_id)
        return await queries.list_fires(session, schedule_id, page)


async def delete(db: Database, caller: Principal, schedule_id: str) -> None:
    async with db.transaction() as session:
        schedule = await queries.get_schedule(
            session, caller.workspace_id, schedule_id, for_update=True
        )
        before = _summary(schedule)
        await queries.delete_schedule(session, schedule)
        await record(session, caller, Change("schedule.delete", "schedule", schedule_id, before))


async def set_paused(
    db: Database,
    caller: Principal,
    schedule_id: str,
    paused: bool,
    reason: str | None,
    now: datetime | None = None,
) -> Schedule:
    async with db.transaction() as session:
        schedule = await queries.get_schedule(
            session, caller.workspace_id, schedule_id, for_update=True
        )
        was = schedule.paused
        schedule.paused = paused
        schedule.paused_reason = reason if paused else None
        if was and not paused:
            _plan_from(schedule, ScheduleSpec.from_document(schedule.spec), now or utcnow())
        await session.flush()
        action = "schedule.pause" if paused else "schedule.unpause"
        after = {"paused": paused, "reason": schedule.paused_reason}
        await record(
            session, caller, Change(action, "schedule", schedule_id, {"paused": was}, after)
        )
    return schedule
