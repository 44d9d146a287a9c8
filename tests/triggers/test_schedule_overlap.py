"""Overlap policies: what a tick does while a run of its schedule is still waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.runs import API, publish, wait_for
from tests.triggers.schedules import WAITS, Clock, fires, make_schedule, scheduled_runs
from tests.waiting import eventually
from towpath.triggers.scheduler import Scheduler

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

START = datetime(2030, 6, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


async def _scheduled(
    app: FastAPI, client: httpx.AsyncClient, overlap: str
) -> tuple[dict[str, Any], Scheduler, Clock]:
    spec = {"intervals": [{"every_seconds": 60}], "start_at": START.isoformat()}
    made = await make_schedule(client, await publish(client, WAITS), spec=spec, overlap=overlap)
    clock = Clock(START)
    return made, Scheduler(app.state.runtime, clock), clock


async def _tick(scheduler: Scheduler, clock: Clock, ticks: int) -> None:
    """A pass at each of the next `ticks` ticks; the clock stays at the last."""
    for index in range(ticks):
        if index:
            clock.move(MINUTE)
        await scheduler.run_once()


async def _finish(client: httpx.AsyncClient, run_id: str) -> None:
    # A run a tick started may not have reached its approval yet.
    await wait_for(client, run_id, "waiting")
    approved = await client.post(f"{API}/runs/{run_id}/approve", json={"approved": True})
    assert approved.status_code == 200, approved.text
    await wait_for(client, run_id, "completed")


async def _outcomes(app: FastAPI, schedule_id: str) -> list[str]:
    return [fire.outcome for fire in await fires(app, schedule_id)]


async def test_skip_records_the_tick_and_starts_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made, scheduler, clock = await _scheduled(app, client, "skip")
    await _tick(scheduler, clock, 2)
    [(first, _, _)] = await scheduled_runs(app, made["id"])
    await _finish(client, first)
    clock.move(MINUTE)
    await scheduler.run_once()

    assert await _outcomes(app, made["id"]) == ["started", "skipped", "started"]
    skipped = (await fires(app, made["id"]))[1]
    assert skipped.run_id is None
    assert skipped.detail == "a run of the schedule was still in flight"


async def test_buffer_one_starts_one_more_when_the_run_ends(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made, scheduler, clock = await _scheduled(app, client, "buffer_one")
    await _tick(scheduler, clock, 3)
    assert await _outcomes(app, made["id"]) == ["started", "buffered", "skipped"]
    [(first, _, _)] = await scheduled_runs(app, made["id"])

    await _finish(client, first)
    # Between ticks: the pass only starts what was buffered.
    clock.move(MINUTE / 2)
    await scheduler.run_once()

    runs = await scheduled_runs(app, made["id"])
    assert [scheduled for _, scheduled, _ in runs] == [START, START + MINUTE]
    assert await _outcomes(app, made["id"]) == ["started", "started", "skipped"]


async def test_buffer_all_starts_each_buffered_tick_in_order(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made, scheduler, clock = await _scheduled(app, client, "buffer_all")
    await _tick(scheduler, clock, 3)
    assert await _outcomes(app, made["id"]) == ["started", "buffered", "buffered"]

    clock.move(MINUTE / 4)
    for expected in (2, 3):
        running = [
            run for run, _, status in await scheduled_runs(app, made["id"]) if status != "completed"
        ]
        await _finish(client, running[0])

        async def started(expected: int = expected) -> bool:
            await scheduler.run_once()
            return len(await scheduled_runs(app, made["id"])) == expected

        await eventually(started, what=f"run {expected} of the buffer")

    runs = await scheduled_runs(app, made["id"])
    assert [scheduled for _, scheduled, _ in runs] == [START, START + MINUTE, START + 2 * MINUTE]
    assert await _outcomes(app, made["id"]) == ["started"] * 3


async def test_cancel_other_cancels_the_run_in_flight_and_starts(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made, scheduler, clock = await _scheduled(app, client, "cancel_other")
    await _tick(scheduler, clock, 2)

    (first, _, _), (second, _, _) = await scheduled_runs(app, made["id"])
    cancelled = await wait_for(client, first, "cancelled")
    assert second in (cancelled["error"] or "")
    assert (await wait_for(client, second, "waiting"))["status"] == "waiting"
    assert await _outcomes(app, made["id"]) == ["started", "started"]


async def test_allow_all_starts_whatever_is_in_flight(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made, scheduler, clock = await _scheduled(app, client, "allow_all")
    await _tick(scheduler, clock, 3)

    runs = await scheduled_runs(app, made["id"])
    assert len(runs) == 3
    assert await _outcomes(app, made["id"]) == ["started"] * 3
    for run_id, _, _ in runs:
        assert (await wait_for(client, run_id, "waiting"))["trigger_type"] == "schedule"
