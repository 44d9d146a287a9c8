"""Ticks missed while nothing ran: caught up inside the window, passed over beyond it;
backfilling a past range; a failed run pausing its schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.runs import publish, wait_for
from tests.triggers.schedules import (
    ECHO,
    FAILS,
    SCHEDULES,
    Clock,
    fires,
    make_schedule,
    scheduled_runs,
)
from tests.waiting import eventually
from towpath.triggers.scheduler import Scheduler

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

START = datetime(2031, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
EVERY_MINUTE = {"intervals": [{"every_seconds": 60}], "start_at": START.isoformat()}


async def test_a_tick_missed_within_the_window_fires_late(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = await make_schedule(client, await publish(client, ECHO), spec=EVERY_MINUTE)
    clock = Clock(START)
    scheduler = Scheduler(app.state.runtime, clock)
    await scheduler.run_once()
    # Down for 110 s: the tick at 1 min is 50 s late, inside the 60 s window.
    clock.move(timedelta(seconds=110))
    await scheduler.run_once()

    taken = await fires(app, made["id"])
    assert [(f.scheduled_at, f.outcome) for f in taken] == [
        (START, "started"),
        (START + MINUTE, "started"),
    ]


async def test_ticks_missed_beyond_the_window_are_passed_over_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = await make_schedule(client, await publish(client, ECHO), spec=EVERY_MINUTE)
    clock = Clock(START)
    scheduler = Scheduler(app.state.runtime, clock)
    await scheduler.run_once()
    # Down for ten minutes and a half: the ticks at 1 to 9 min are beyond the window.
    clock.move(10 * MINUTE + timedelta(seconds=30))
    await scheduler.run_once()

    taken = await fires(app, made["id"])
    assert [(f.scheduled_at, f.outcome) for f in taken] == [
        (START, "started"),
        (START + MINUTE, "missed"),
        (START + 10 * MINUTE, "started"),
    ]
    assert len(await scheduled_runs(app, made["id"])) == 2


async def test_a_window_of_zero_never_catches_up(app: FastAPI, client: httpx.AsyncClient) -> None:
    made = await make_schedule(
        client, await publish(client, ECHO), spec=EVERY_MINUTE, catchup_window_seconds=0
    )
    clock = Clock(START)
    scheduler = Scheduler(app.state.runtime, clock)
    # A pass a moment late takes the tick; one a minute late does not.
    clock.move(timedelta(seconds=2))
    await scheduler.run_once()
    clock.move(MINUTE + timedelta(seconds=50))
    await scheduler.run_once()

    taken = await fires(app, made["id"])
    assert [(f.scheduled_at, f.outcome) for f in taken] == [
        (START, "started"),
        (START + MINUTE, "missed"),
    ]


async def test_backfill_takes_each_tick_of_the_range_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = await make_schedule(client, await publish(client, ECHO), spec={"cron": ["0 * * * *"]})
    day = datetime(2025, 1, 1, tzinfo=UTC)
    window = {"start": day.isoformat(), "end": (day + timedelta(hours=5)).isoformat()}

    first = await client.post(f"{SCHEDULES}/{made['id']}/backfill", json=window)
    again = await client.post(f"{SCHEDULES}/{made['id']}/backfill", json=window)
    too_wide = await client.post(
        f"{SCHEDULES}/{made['id']}/backfill",
        json={"start": day.isoformat(), "end": (day + timedelta(days=60)).isoformat()},
    )

    assert first.status_code == 200, first.text
    hours = [day + timedelta(hours=h) for h in range(5)]
    assert [datetime.fromisoformat(f["scheduled_at"]) for f in first.json()["fires"]] == hours
    assert {f["outcome"] for f in first.json()["fires"]} == {"started"}
    assert again.json() == {"fires": [], "already_taken": 5}
    assert too_wide.status_code == 422
    assert too_wide.json()["details"]["field"] == "end"
    runs = await scheduled_runs(app, made["id"])
    assert [scheduled for _, scheduled, _ in runs] == hours
    for run_id, _, _ in runs:
        await wait_for(client, run_id, "completed")


async def test_a_failed_run_pauses_a_schedule_that_asks_for_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = await make_schedule(
        client, await publish(client, FAILS), spec=EVERY_MINUTE, pause_on_failure=True
    )
    clock = Clock(START)
    scheduler = Scheduler(app.state.runtime, clock)
    await scheduler.run_once()
    [(run_id, _, _)] = await scheduled_runs(app, made["id"])
    await wait_for(client, run_id, "failed")

    async def paused() -> bool:
        await scheduler.run_once()
        found = (await client.get(f"{SCHEDULES}/{made['id']}")).json()
        return bool(found["paused"])

    await eventually(paused, what="the schedule paused")
    clock.move(5 * MINUTE)
    await scheduler.run_once()

    found = (await client.get(f"{SCHEDULES}/{made['id']}")).json()
    assert run_id in found["paused_reason"]
    assert found["recent"][0]["run_status"] == "failed"
    assert len(await scheduled_runs(app, made["id"])) == 1
