"""The scheduler loop, beside the worker in every process that runs one: each pass settles
the ticks whose runs ended, starts buffered ticks, and takes the ticks that are due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from towpath.domain.clock import utcnow
from towpath.storage import schedules as queries
from towpath.triggers.firing import fire, fire_buffered, settle, skip_missed
from towpath.triggers.schedule_spec import ScheduleSpec
from towpath.triggers.ticks import Advance, Target

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from datetime import datetime

    from towpath.engine.runtime import Runtime
    from towpath.storage.models import Schedule

log = logging.getLogger(__name__)
ONE = timedelta(microseconds=1)


@dataclass(frozen=True)
class SchedulerSettings:
    # How often a pass runs.
    interval: float = 1.0
    # A tick this late is still on time however small its catch-up window: the loop's
    # own delay, not downtime.
    grace: timedelta = timedelta(seconds=5)
    # Ticks one schedule takes in one pass at most; the rest wait for the next pass.
    ticks_per_pass: int = 100
    schedules_per_pass: int = 200


class Scheduler:
    def __init__(
        self,
        runtime: Runtime,
        clock: Callable[[], datetime] = utcnow,
        settings: SchedulerSettings | None = None,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.settings = settings or SchedulerSettings()

    async def run_once(self) -> None:
        """One pass at the clock's time."""
        now = self.clock()
        async with self.runtime.db.read() as session:
            ended = await queries.ended_fires(session)
        for found in ended:
            await settle(self.runtime, found, now)
        async with self.runtime.db.read() as session:
            buffered = await queries.with_buffered_ticks(session)
        for schedule in buffered:
            await fire_buffered(self.runtime, Target.of(schedule), now)
        async with self.runtime.db.read() as session:
            due = await queries.due_schedules(session, now, self.settings.schedules_per_pass)
        for schedule in due:
            await self._take_due(schedule, now)

    async def _take_due(self, schedule: Schedule, now: datetime) -> None:
        spec = ScheduleSpec.from_document(schedule.spec)
        target = Target.of(schedule)
        late = max(timedelta(seconds=schedule.catchup_window_seconds), self.settings.grace)
        tick = schedule.next_fire_at
        for _ in range(self.settings.ticks_per_pass):
            if tick is None or tick + spec.jitter(schedule.id, tick) > now:
                return
            if now - (tick + spec.jitter(schedule.id, tick)) > late:
                # Missed while nothing ran, beyond the catch-up window: go on from the
                # first tick still inside it.
                first = _first_in_window(spec, schedule.id, now - late)
                advance = _advance(spec, schedule.id, tick, first)
                if not await skip_missed(self.runtime, target, tick, now, advance):
                    return
                tick = first
                continue
            following = spec.next_after(tick)
            advance = _advance(spec, schedule.id, tick, following)
            taken = await fire(self.runtime, target, tick, "schedule", now, advance)
            if taken is None:
                # Another process took it: it goes on from there.
                return
            tick = following

    async def run(self, stop: asyncio.Event) -> None:
        failures: tuple[type[BaseException], ...] = (SQLAlchemyError, *self.runtime.driver.errors)
        while not stop.is_set():
            try:
                await self.run_once()
            except failures:
                # The database is away for a moment: the next pass tries again.
                log.exception("scheduler pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.interval)


def _advance(
    spec: ScheduleSpec, schedule_id: str, tick: datetime, following: datetime | None
) -> Advance:
    due = following + spec.jitter(schedule_id, following) if following else None
    return Advance(tick, following, due)


def _first_in_window(spec: ScheduleSpec, schedule_id: str, earliest: datetime) -> datetime | None:
    tick = spec.next_after(earliest - timedelta(seconds=spec.jitter_seconds) - ONE)
    while tick is not None and tick + spec.jitter(schedule_id, tick) < earliest:
        tick = spec.next_after(tick)
    return tick


@contextlib.asynccontextmanager
async def scheduler_running(
    runtime: Runtime, *, enabled: bool = True, clock: Callable[[], datetime] = utcnow
) -> AsyncIterator[Scheduler | None]:
    """The loop, from entry to exit; `enabled` False (a process without a worker): none."""
    if not enabled:
        yield None
        return
    # Connections of its own, as the engine and the outbox have: its passes neither wait
    # for a request's connection nor appear among a request's statements.
    db = runtime.db
    own = db.alike()
    scheduler = Scheduler(replace(runtime, db=own), clock)
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))
    try:
        yield scheduler
    finally:
        stop.set()
        await task
        await own.dispose()
