"""Ticks asked for by hand: one now, or every tick of a past time range (backfill)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.domain.clock import utcnow
from towpath.services.audit import Change, record
from towpath.storage import schedules as queries
from towpath.triggers.firing import fire
from towpath.triggers.schedule_spec import ScheduleSpec, ScheduleSpecInvalid
from towpath.triggers.ticks import Target

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.auth.principal import Principal
    from towpath.engine.runtime import Runtime
    from towpath.triggers.overlap import Overlap
    from towpath.triggers.ticks import Taken

MAX_BACKFILL = 1000


async def trigger(
    runtime: Runtime,
    caller: Principal,
    schedule_id: str,
    overlap: Overlap | None,
    now: datetime | None = None,
) -> Taken:
    """A tick now, outside the spec, under the schedule's overlap policy unless another
    is given."""
    moment = now or utcnow()
    async with runtime.db.transaction() as session:
        schedule = await queries.get_schedule(session, caller.workspace_id, schedule_id)
        after = {"scheduled_at": moment.isoformat()}
        await record(
            session, caller, Change("schedule.trigger", "schedule", schedule_id, None, after)
        )
    taken = await fire(runtime, Target.of(schedule, overlap), moment, "trigger", moment, None)
    if taken is None:
        raise queries.TickTaken(moment)
    return taken


async def backfill(
    runtime: Runtime,
    caller: Principal,
    schedule_id: str,
    window: tuple[datetime, datetime],
    overlap: Overlap | None,
    now: datetime | None = None,
) -> tuple[list[Taken], int]:
    """Every tick of the spec in [start, end), in order, each taken once: a tick taken
    before (by the schedule or an earlier backfill) is counted, not taken again."""
    start, end = window
    if end <= start:
        raise ScheduleSpecInvalid("end", "the end is not after the start")
    async with runtime.db.transaction() as session:
        schedule = await queries.get_schedule(session, caller.workspace_id, schedule_id)
        ticks = ScheduleSpec.from_document(schedule.spec).between(start, end, MAX_BACKFILL)
        if len(ticks) > MAX_BACKFILL:
            message = f"the range holds more than {MAX_BACKFILL} ticks; backfill it in parts"
            raise ScheduleSpecInvalid("end", message)
        after = {"start": start.isoformat(), "end": end.isoformat(), "ticks": len(ticks)}
        await record(
            session, caller, Change("schedule.backfill", "schedule", schedule_id, None, after)
        )
    target = Target.of(schedule, overlap)
    taken: list[Taken] = []
    for tick in ticks:
        found = await fire(runtime, target, tick, "backfill", now or utcnow(), None)
        if found is not None:
            taken.append(found)
    return taken, len(ticks) - len(taken)
