"""After the pruner deleted old ticks and deliveries, the scheduler and the outbox go on:
a schedule takes its next tick once, and a delivery still pending is delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.runs import publish, start, wait_for
from tests.triggers.receiver import Receiver, deliveries_of, hook_name, receiver, subscribe
from tests.triggers.schedules import ECHO, Clock, fires, make_schedule, scheduled_runs
from tests.waiting import eventually
from towpath.domain.clock import utcnow
from towpath.triggers.pruner import Pruner
from towpath.triggers.scheduler import Scheduler

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings

__all__ = ["receiver"]

START = datetime(2030, 1, 1, tzinfo=UTC)
EVERY_STEP = ["run.started", "step.started", "step.completed", "run.completed"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Retries a tenth of a second apart: the test waits on outcomes, never on the schedule.
    return settings.model_copy(
        update={"outbox_retry_seconds": [0.1] * 50, "outbox_poll_seconds": 0.05}
    )


async def test_a_schedule_takes_its_next_tick_once_after_its_ticks_are_pruned(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    every_minute = {"intervals": [{"every_seconds": 60}], "start_at": START.isoformat()}
    made = await make_schedule(client, await publish(client, ECHO), spec=every_minute)
    clock = Clock(START)
    scheduler = Scheduler(app.state.runtime, clock)

    async def tick() -> None:
        await scheduler.run_once()
        for run_id, _, _ in await scheduled_runs(app, made["id"]):
            await wait_for(client, run_id, "completed")
        # The ended runs settle their ticks.
        await scheduler.run_once()

    await tick()
    clock.move(timedelta(minutes=1))
    await tick()
    assert len(await fires(app, made["id"])) == 2

    pruner = Pruner(app.state.runtime, pause=0, clock=lambda: START + timedelta(days=31))
    await pruner.run_once()
    assert pruner.records_pruned["schedule_fires"] == 2
    assert await fires(app, made["id"]) == []

    # The tick taken last is not taken again; the next one is taken once.
    await tick()
    clock.move(timedelta(minutes=1))
    await tick()
    await tick()

    assert [f.scheduled_at for f in await fires(app, made["id"])] == [START + timedelta(minutes=2)]
    runs = await scheduled_runs(app, made["id"])
    assert [at for _, at, _ in runs] == [START + timedelta(minutes=i) for i in range(3)]


async def test_a_pending_delivery_outlives_a_prune_and_is_delivered(
    client: httpx.AsyncClient, receiver: Receiver, app: FastAPI
) -> None:
    name = hook_name()
    workflow_id = await publish(client, ECHO)
    made = await subscribe(client, receiver.url_for(name), EVERY_STEP)
    first = await start(client, workflow_id, {"n": 1})
    await wait_for(client, first["id"], "completed")

    async def settled() -> bool:
        listed = await deliveries_of(client, made["id"])
        return bool(listed) and all(d["status"] == "delivered" for d in listed)

    await eventually(settled, what="the first run's deliveries")
    delivered = len(await deliveries_of(client, made["id"]))
    receiver.status = 503
    second = await start(client, workflow_id, {"n": 2})
    await eventually(lambda: receiver.refused(name) >= 2, what="refused attempts")

    pruner = Pruner(app.state.runtime, pause=0, clock=lambda: utcnow() + timedelta(days=31))
    await pruner.run_once()

    assert pruner.records_pruned["subscription_deliveries"] == delivered
    listed = await deliveries_of(client, made["id"])
    assert listed
    assert {d["run_id"] for d in listed} == {second["id"]}
    assert "delivered" not in {d["status"] for d in listed}

    receiver.status = 200

    async def delivered_second() -> bool:
        found = await deliveries_of(client, made["id"])
        return len(found) >= 4 and all(d["status"] == "delivered" for d in found)

    await eventually(delivered_second, seconds=30, what="the second run's deliveries")
    types = [
        r.json["type"] for r in receiver.accepted(name) if r.json["data"]["run_id"] == second["id"]
    ]
    assert types[0] == "run.started"
    assert types[-1] == "run.completed"
