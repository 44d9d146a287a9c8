"""Taking one tick of a schedule: recording it and starting its run are one transaction,
keyed by (schedule, scheduled time), so a tick is taken once however many processes try."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from towpath.auth.principal import Principal
from towpath.domain.ids import new_id
from towpath.engine.lifecycle import start_run
from towpath.engine.sql import execute, fetch
from towpath.services.audit import RunAction
from towpath.storage import schedules as sql
from towpath.triggers.overlap import Overlap, TickAction, on_tick

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.results import Applied, Continuation
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Dialect, Gen
    from towpath.storage.models import Schedule

TRIGGER_TYPE = "schedule"
BUSY = "a run of the schedule was still in flight"


@dataclass(frozen=True)
class Target:
    """What a tick starts: read from the schedule before the transaction."""

    id: str
    workspace_id: str
    workflow_id: str
    version_id: str | None
    input: dict[str, Any]
    overlap: Overlap
    pause_on_failure: bool

    @classmethod
    def of(cls, schedule: Schedule, overlap: Overlap | None = None) -> Target:
        return cls(
            schedule.id,
            schedule.workspace_id,
            schedule.workflow_id,
            schedule.version_id,
            schedule.input,
            overlap or Overlap(schedule.overlap),
            schedule.pause_on_failure,
        )

    @property
    def principal(self) -> Principal:
        # Who the audit log names for what the schedule does by itself.
        return Principal(f"schedule:{self.id}", self.workspace_id, "operator", kind="schedule")


@dataclass(frozen=True)
class Advance:
    """A scheduled tick moves the schedule on from `taken_from`, or nothing happens."""

    taken_from: datetime
    next_fire_at: datetime | None
    next_due_at: datetime | None


@dataclass
class Taken:
    fire_id: str
    scheduled_at: datetime
    outcome: str
    run_id: str | None = None
    detail: str | None = None
    source: str = "schedule"
    # Runs the tick replaces (cancel_other), cancelled after the commit.
    replaces: list[str] = field(default_factory=list)


def claim(
    d: Dialect,
    target: Target,
    scheduled_at: datetime,
    source: str,
    now: datetime,
    advance: Advance | None,
    outcome: str = "pending",
    detail: str | None = None,
) -> Gen[str | None]:
    """Record the tick; its row's id, or None when it was taken before (here or by
    another process): then nothing of the tick is written."""
    if advance is not None:
        moved = yield from execute(
            sql.TAKE_TICK,
            d.time(advance.next_fire_at),
            d.time(advance.next_due_at),
            d.time(now),
            target.id,
            d.time(advance.taken_from),
            False,
        )
        if moved == 0:
            return None
    else:
        # Ticks of one schedule take its row in turn, so each sees the runs before it.
        yield from fetch(sql.LOCK_SCHEDULE.format(lock=d.lock()), target.id)
    fire_id = new_id()
    inserted = yield from execute(
        sql.INSERT_FIRE,
        fire_id,
        target.workspace_id,
        target.id,
        d.time(scheduled_at),
        source,
        outcome,
        None,
        None,
        False,
        detail,
        d.time(now),
    )
    return fire_id if inserted else None


def take_tick(
    runtime: Runtime,
    target: Target,
    scheduled_at: datetime,
    source: str,
    now: datetime,
    advance: Advance | None,
    continuation: Continuation | None,
) -> Gen[tuple[Taken | None, Applied | None]]:
    """None when another process took the tick first (or it was taken before)."""
    d = runtime.driver.dialect
    fire_id = yield from claim(d, target, scheduled_at, source, now, advance)
    if fire_id is None:
        return None, None
    taken = Taken(fire_id, scheduled_at, "pending", source=source)
    running = yield from fetch(sql.RUNS_IN_FLIGHT, target.id, True)
    buffered = yield from fetch(sql.BUFFERED, target.id)
    action = on_tick(target.overlap, bool(running), len(buffered))
    if action in (TickAction.SKIP, TickAction.BUFFER):
        taken.outcome = "skipped" if action == TickAction.SKIP else "buffered"
        taken.detail = BUSY
        yield from execute(sql.FIRE_OUTCOME, taken.outcome, taken.detail, taken.fire_id)
        return taken, None
    if action == TickAction.REPLACE:
        taken.replaces = [row[0] for row in running]
    taken.run_id, applied = yield from start_for(d, runtime, target, taken, continuation)
    taken.outcome = "started"
    return taken, applied


def start_buffered(
    runtime: Runtime, target: Target, continuation: Continuation | None
) -> Gen[tuple[Taken | None, Applied | None]]:
    """The oldest buffered tick's run, once no run of the schedule is in flight."""
    d = runtime.driver.dialect
    locked = yield from fetch(sql.LOCK_SCHEDULE.format(lock=d.lock()), target.id)
    if not locked or locked[0][1]:
        return None, None
    if (yield from fetch(sql.RUNS_IN_FLIGHT, target.id, True)):
        return None, None
    buffered = yield from fetch(sql.BUFFERED, target.id)
    if not buffered:
        return None, None
    fire_id, scheduled_at, source = buffered[0]
    taken = Taken(fire_id, d.read_time(scheduled_at) or scheduled_at, "started", source=source)
    taken.run_id, applied = yield from start_for(d, runtime, target, taken, continuation)
    return taken, applied


def start_for(
    d: Dialect,
    runtime: Runtime,
    target: Target,
    taken: Taken,
    continuation: Continuation | None,
) -> Gen[tuple[str, Applied]]:
    workflows = runtime.workflows
    if target.version_id is not None:
        workflow = yield from workflows.get(d, target.version_id, target.workspace_id)
    else:
        workflow = yield from workflows.latest(d, target.workflow_id, target.workspace_id)
    rt = yield from start_run(
        d,
        workflow,
        target.input,
        workflows.limits,
        trigger_type=TRIGGER_TYPE,
        trigger_id=target.id,
        created_by=target.principal.subject,
        write=False,
    )
    applied = yield from runtime.carry_on([rt], continuation)
    yield from execute(sql.RUN_SCHEDULED_AT, d.time(taken.scheduled_at), rt.run.id)
    yield from execute(sql.FIRE_STARTED, rt.run.id, True, taken.fire_id)
    details = {"schedule_id": target.id, "scheduled_at": taken.scheduled_at.isoformat()}
    yield from RunAction(target.principal, "run.start", details).record(rt, None)
    return rt.run.id, applied
