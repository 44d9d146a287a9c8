"""Carrying out a tick: its transaction, what it failed with when no run could start,
and cancelling the runs a `cancel_other` tick replaces."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from towpath.domain.errors import NotFound, TowpathError
from towpath.engine.lifecycle import RunStateConflict, cancel_run
from towpath.engine.sql import execute, fetch
from towpath.services.audit import RunAction
from towpath.storage import schedules as sql
from towpath.triggers.ticks import Taken, claim, start_buffered, take_tick

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.results import Applied
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.storage.schedules import EndedFire
    from towpath.triggers.ticks import Advance, Target

log = logging.getLogger(__name__)


async def fire(
    runtime: Runtime,
    target: Target,
    scheduled_at: datetime,
    source: str,
    now: datetime,
    advance: Advance | None,
) -> Taken | None:
    """The tick taken here, or None when it had been taken (by another process)."""
    continuation = runtime.continuation()

    def transition() -> Gen[tuple[Taken | None, Applied | None]]:
        return (
            yield from take_tick(runtime, target, scheduled_at, source, now, advance, continuation)
        )

    try:
        taken, applied = await runtime.driver.run(transition)
    except TowpathError as exc:
        return await _failed(runtime, target, scheduled_at, source, now, advance, exc)
    if applied is not None:
        runtime.committed(applied)
    if taken is not None and taken.replaces:
        await _cancel(runtime, target, taken)
    return taken


async def fire_buffered(runtime: Runtime, target: Target, now: datetime) -> Taken | None:
    continuation = runtime.continuation()

    def transition() -> Gen[tuple[Taken | None, Applied | None]]:
        return (yield from start_buffered(runtime, target, continuation))

    try:
        taken, applied = await runtime.driver.run(transition)
    except TowpathError as exc:
        return await _buffered_failed(runtime, target, now, exc)
    if applied is not None:
        runtime.committed(applied)
    return taken


def pause_for(runtime: Runtime, target: Target, reason: str, now: datetime) -> Gen[None]:
    if target.pause_on_failure:
        d = runtime.driver.dialect
        yield from execute(sql.PAUSE, True, reason, d.time(now), target.id, False, True)


async def _failed(
    runtime: Runtime,
    target: Target,
    scheduled_at: datetime,
    source: str,
    now: datetime,
    advance: Advance | None,
    error: TowpathError,
) -> Taken | None:
    """The tick is taken all the same, with why no run started: it is not tried again."""
    d = runtime.driver.dialect
    taken = Taken("", scheduled_at, "failed", detail=f"{error.code}: {error}", source=source)

    def transition() -> Gen[Taken | None]:
        fire_id = yield from claim(
            d, target, scheduled_at, source, now, advance, taken.outcome, taken.detail
        )
        if fire_id is None:
            return None
        taken.fire_id = fire_id
        yield from pause_for(
            runtime, target, f"the tick of {scheduled_at.isoformat()} failed: {taken.detail}", now
        )
        return taken

    return await runtime.driver.run(transition)


async def _buffered_failed(
    runtime: Runtime, target: Target, now: datetime, error: TowpathError
) -> Taken | None:
    d = runtime.driver.dialect
    detail = f"{error.code}: {error}"

    def transition() -> Gen[Taken | None]:
        buffered = yield from fetch(sql.BUFFERED, target.id)
        if not buffered:
            return None
        fire_id, scheduled_at, source = buffered[0]
        yield from execute(sql.FIRE_OUTCOME, "failed", detail, fire_id)
        yield from pause_for(runtime, target, f"a buffered tick failed: {detail}", now)
        return Taken(
            fire_id, d.read_time(scheduled_at) or now, "failed", detail=detail, source=source
        )

    return await runtime.driver.run(transition)


async def _cancel(runtime: Runtime, target: Target, taken: Taken) -> None:
    reason = f"replaced by run {taken.run_id} of schedule {target.id}"
    action = RunAction(target.principal, "run.cancel", {"schedule_id": target.id})
    for run_id in taken.replaces:
        try:
            await runtime.change_run(
                run_id, target.workspace_id, lambda rt, _: cancel_run(rt, reason), action
            )
        except (RunStateConflict, NotFound):
            # It ended (or went) on its own meanwhile.
            log.debug("run %s of schedule %s had ended", run_id, target.id)


async def skip_missed(
    runtime: Runtime, target: Target, tick: datetime, now: datetime, advance: Advance
) -> bool:
    """Move past ticks missed beyond the catch-up window, noted once at the first of them."""
    d = runtime.driver.dialect
    until = advance.next_fire_at.isoformat() if advance.next_fire_at else "the end"
    detail = f"missed beyond the catch-up window, as were the ticks after it until {until}"

    def transition() -> Gen[str | None]:
        return (yield from claim(d, target, tick, "schedule", now, advance, "missed", detail))

    return await runtime.driver.run(transition) is not None


async def settle(runtime: Runtime, ended: EndedFire, now: datetime) -> None:
    """Note how a tick's run ended; a failed one pauses a schedule that asks for it."""
    d = runtime.driver.dialect

    def transition() -> Gen[None]:
        changed = yield from execute(sql.SETTLE_FIRE, False, ended.status, ended.fire_id, True)
        if changed and ended.status == "failed":
            reason = f"run {ended.run_id} failed: {ended.error or 'no error given'}"
            yield from execute(sql.PAUSE, True, reason, d.time(now), ended.schedule_id, False, True)

    await runtime.driver.run(transition)
