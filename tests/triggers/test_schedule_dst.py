"""Daylight saving time: a local time the spring skips fires once, just after the change,
and a local time the autumn repeats fires once, in two zones, by the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from tests.runs import publish
from tests.triggers.schedules import ECHO, Clock, fires, make_schedule, schedulers

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings

# Half-hour steps land on every :00 and :30, the times the crons name.
STEP = timedelta(minutes=30)

# (zone, cron, the local day the clocks change, the local times it fires, day by day)
CHANGES = [
    # Spring: 02:30 does not happen on the day; it fires once, at 03:30.
    ("America/New_York", "30 2 * * *", "2027-03-14", ["02:30-0500", "03:30-0400", "02:30-0400"]),
    ("Europe/Berlin", "30 2 * * *", "2027-03-28", ["02:30+0100", "03:30+0200", "02:30+0200"]),
    # Autumn: 01:30 (New York) and 02:30 (Berlin) happen twice; each fires once, the first time.
    ("America/New_York", "30 1 * * *", "2027-11-07", ["01:30-0400", "01:30-0400", "01:30-0500"]),
    ("Europe/Berlin", "30 2 * * *", "2027-10-31", ["02:30+0200", "02:30+0200", "02:30+0100"]),
]


@pytest.mark.parametrize(("zone", "cron", "day", "expected"), CHANGES)
async def test_a_change_of_the_clocks_fires_each_local_time_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    zone: str,
    cron: str,
    day: str,
    expected: list[str],
) -> None:
    local = ZoneInfo(zone)
    change = datetime.fromisoformat(day).replace(tzinfo=local)
    start = (change - timedelta(days=1)).astimezone(UTC)
    spec = {"cron": [cron], "timezone": zone, "start_at": start.isoformat()}
    made = await make_schedule(client, await publish(client, ECHO), spec=spec)
    clock = Clock(start)

    async with schedulers(app, settings, clock, 2) as two:
        while clock.now < start + timedelta(days=3):
            for scheduler in two:
                await scheduler.run_once()
            clock.move(STEP)

    taken = await fires(app, made["id"])
    seen = [fire.scheduled_at.astimezone(local).strftime("%H:%M%z") for fire in taken]
    assert seen == expected
    assert {fire.outcome for fire in taken} == {"started"}


async def test_an_hourly_schedule_fires_23_times_on_a_spring_day_and_24_in_autumn(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    workflow_id = await publish(client, ECHO)
    counts = []
    for name, day in (("spring", "2027-03-28"), ("autumn", "2027-10-31")):
        midnight = datetime.fromisoformat(day)
        start = midnight.replace(tzinfo=berlin).astimezone(UTC)
        end = (midnight + timedelta(days=1)).replace(tzinfo=berlin) - timedelta(minutes=1)
        spec = {
            "cron": ["0 * * * *"],
            "timezone": "Europe/Berlin",
            "start_at": start.isoformat(),
            "end_at": end.isoformat(),
        }
        made = await make_schedule(client, workflow_id, name=name, spec=spec)
        clock = Clock(start)
        async with schedulers(app, settings, clock, 1) as one:
            while clock.now <= start + timedelta(hours=26):
                await one[0].run_once()
                clock.move(STEP)
        counts.append(len(await fires(app, made["id"])))

    # Spring has no 02:00; autumn's repeated 02:00 fires once, so 24 of its 25 hours.
    assert counts == [23, 24]
