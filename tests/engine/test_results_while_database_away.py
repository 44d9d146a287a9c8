"""A result the worker cannot record because the database is away for a moment (a
restart) is recorded once it is back: the step is neither failed (its run with it) nor
executed again. The worker reaches PostgreSQL through a TCP forwarder that the step
itself cuts, as a restart would, just before it answers."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from tests.api.test_database_away import Forwarder, forwarding
from tests.engine.test_worker_faults import _ended, _one, _published
from towpath.config import Settings
from towpath.engine.runner import engine_running
from towpath.services import runs as run_service
from towpath.services.idempotency import IdempotencyPolicy
from towpath.steps.catalog import default_registry
from towpath.steps.execution import Completed
from towpath.steps.registry import StepType
from towpath.storage.database import Database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from towpath.steps.execution import Outcome, StepContext


class NoConfig(BaseModel):
    pass


@pytest.fixture
async def forwarder(database_url: str) -> AsyncIterator[Forwarder]:
    async with forwarding(database_url, "a network connection to cut") as found:
        yield found


async def test_a_result_is_recorded_once_the_database_is_back(
    database_url: str, forwarder: Forwarder
) -> None:
    executions: list[int] = []
    back: list[asyncio.Task[None]] = []

    async def cut_then_answer(config: NoConfig, context: StepContext) -> Outcome:
        executions.append(len(executions) + 1)
        if len(executions) == 1:
            await forwarder.cut()

            async def restarted() -> None:
                await asyncio.sleep(1.5)
                await forwarder.start()

            back.append(asyncio.create_task(restarted()))
        return Completed({"executions": len(executions)})

    registry = default_registry()
    registry.register(
        StepType(
            type="cut_then_answer",
            label="Cut, then answer",
            description="Cuts the database away, then answers.",
            icon="plug",
            category="data",
            config_model=NoConfig,
            execute=cut_then_answer,
        )
    )
    through = make_url(database_url).set(host="127.0.0.1", port=forwarder.port)
    url = through.render_as_string(hide_password=False)
    db = Database(database_url)
    policy = IdempotencyPolicy(ttl=timedelta(hours=24))
    try:
        caller, workflow_id = await _published(db, _one("cut_then_answer", {}))
        settings = Settings(database_url=url, lease_seconds=10)
        engine_db = Database(url)
        try:
            async with engine_running(engine_db, registry, settings, with_worker=True) as runtime:
                run, _, _ = await run_service.start(runtime, caller, workflow_id, {}, None, policy)
                # Read through a connection of the test's own, which nothing cuts.
                ended = await _ended(replace(runtime, db=db), caller, run.id)
        finally:
            await engine_db.dispose()
    finally:
        await db.dispose()

    assert ended["status"] == "completed", ended["error"]
    assert ended["context"] == {"only": {"executions": 1}}
    assert executions == [1]
