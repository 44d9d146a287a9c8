"""Helpers for schedule tests: workflows that end at once, wait, or fail; a schedule
made through the API; a clock the test moves; scheduler instances as separate processes."""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tests.factories import node
from tests.runs import API
from towpath.engine.runner import engine_running
from towpath.steps.catalog import default_registry
from towpath.storage.models import Run, ScheduleFire
from towpath.triggers.scheduler import Scheduler

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import datetime, timedelta

    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings

SCHEDULES = f"{API}/schedules"
ECHO = {"nodes": [node("echo", "transform", {"output": {"seen": "{{ input }}"}})], "edges": []}
WAITS = {"nodes": [node("ask", "approval", {"message": "go on?"})], "edges": []}
FAILS = {
    "nodes": [node("bad", "transform", {"output": {"x": "{{ input.nope.deeper }}"}})],
    "edges": [],
}


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def move(self, by: timedelta) -> None:
        self.now += by


def body(workflow_id: str, **fields: Any) -> dict[str, Any]:
    spec = fields.pop("spec", {"cron": ["0 * * * *"]})
    return {
        "name": fields.pop("name", "nightly"),
        "workflow_id": workflow_id,
        "spec": spec,
        **fields,
    }


async def make_schedule(
    client: httpx.AsyncClient, workflow_id: str, **fields: Any
) -> dict[str, Any]:
    made = await client.post(SCHEDULES, json=body(workflow_id, **fields))
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


async def fires(app: FastAPI, schedule_id: str) -> list[ScheduleFire]:
    """Every tick taken, oldest first."""
    async with app.state.db.read() as session:
        stmt = (
            select(ScheduleFire)
            .where(ScheduleFire.schedule_id == schedule_id)
            .order_by(ScheduleFire.scheduled_at)
        )
        return list(await session.scalars(stmt))


async def scheduled_runs(app: FastAPI, schedule_id: str) -> list[tuple[str, datetime | None, str]]:
    """(run id, scheduled time, status) of the schedule's runs, by scheduled time."""
    async with app.state.db.read() as session:
        stmt = (
            select(Run.id, Run.scheduled_at, Run.status)
            .where(Run.trigger_type == "schedule", Run.trigger_id == schedule_id)
            .order_by(Run.scheduled_at)
        )
        return [(a, b, c) for a, b, c in (await session.execute(stmt)).all()]


@asynccontextmanager
async def schedulers(
    app: FastAPI, settings: Settings, clock: Clock, count: int
) -> AsyncIterator[list[Scheduler]]:
    """The app's runtime and `count - 1` more, each with connections of its own, as
    separate processes would have; all read one clock."""
    found = [Scheduler(app.state.runtime, clock)]
    async with AsyncExitStack() as stack:
        for _ in range(count - 1):
            runtime = await stack.enter_async_context(
                engine_running(app.state.db, default_registry(), settings, with_worker=False)
            )
            found.append(Scheduler(runtime, clock))
        yield found
