"""Each tick fires exactly once, whatever number of scheduler processes run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.runs import publish
from tests.triggers.schedules import ECHO, Clock, fires, make_schedule, scheduled_runs, schedulers

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings

START = datetime(2030, 1, 1, tzinfo=UTC)
TICKS = 200


async def test_three_schedulers_take_each_of_200_ticks_once(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    workflow_id = await publish(client, ECHO)
    every_minute = {"intervals": [{"every_seconds": 60}], "start_at": START.isoformat()}
    made = await make_schedule(
        client, workflow_id, spec=every_minute, overlap="allow_all", input={"n": 1}
    )
    clock = Clock(START)

    async with schedulers(app, settings, clock, 3) as three:
        for _ in range(TICKS):
            await asyncio.gather(*(scheduler.run_once() for scheduler in three))
            clock.move(timedelta(minutes=1))

    taken = await fires(app, made["id"])
    runs = await scheduled_runs(app, made["id"])
    expected = [START + timedelta(minutes=i) for i in range(TICKS)]
    assert [fire.scheduled_at for fire in taken] == expected
    assert {fire.outcome for fire in taken} == {"started"}
    assert [scheduled for _, scheduled, _ in runs] == expected
    assert len({run_id for run_id, _, _ in runs}) == TICKS
    assert {fire.run_id for fire in taken} == {run_id for run_id, _, _ in runs}
