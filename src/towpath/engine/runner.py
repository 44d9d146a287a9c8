"""Assembles the engine for a process: clients, cache, bus and (optionally) a worker."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from towpath.engine.drivers import connect_driver
from towpath.engine.graphs import WorkflowCache
from towpath.engine.results import InlineOnly
from towpath.engine.runtime import Runtime
from towpath.engine.secret_values import SecretValues
from towpath.engine.settings import RunLimits, WorkerSettings, default_worker_id
from towpath.engine.worker import Worker
from towpath.events.bus import EventBus
from towpath.steps.services import engine_services
from towpath.storage.agents import AgentDirectory, callback_key
from towpath.storage.secret_keys import load_secret_keys

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from towpath.engine.settings import EngineSettings
    from towpath.steps.circuit import CircuitState
    from towpath.steps.execution import EngineServices
    from towpath.steps.registry import StepRegistry
    from towpath.storage.database import Database
    from towpath.storage.secret_keys import SecretKeys


@asynccontextmanager
async def engine_running(
    db: Database,
    registry: StepRegistry,
    settings: EngineSettings,
    *,
    with_worker: bool,
    secret_keys: SecretKeys | None = None,
    on_circuit_change: Callable[[str, CircuitState], None] | None = None,
) -> AsyncIterator[Runtime]:
    """`secret_keys` decrypt workspace secrets; without them, the server's own key does.
    `on_circuit_change` hears of each destination whose circuit opens or closes."""
    # The engine's own connections, to the same database as `db`.
    driver = await connect_driver(db.url, db.sqlite_synchronous, db.command_timeout)
    workflows = WorkflowCache(limits=run_limits(settings))
    bus = EventBus()
    try:
        keys = secret_keys or await load_secret_keys(db, "")
        agents = AgentDirectory(db, keys)
        key = await callback_key(db)
        async with engine_services(
            settings, agents=agents, callback_key=key, on_circuit_change=on_circuit_change
        ) as services:
            if not with_worker:
                yield Runtime(
                    db, driver, workflows, bus, _inline_only(registry, services, settings)
                )
                return
            worker = Worker(
                driver,
                registry,
                services,
                workflows,
                bus,
                WorkerSettings(
                    concurrency=settings.worker_concurrency,
                    lease_seconds=settings.lease_seconds,
                    poll_seconds=settings.poll_seconds,
                    inline_pure_steps=settings.inline_pure_steps,
                    inline_seconds=settings.inline_step_seconds,
                    inline_output_chars=settings.inline_step_output_chars,
                    shutdown_grace_seconds=settings.shutdown_grace_seconds,
                ),
                SecretValues(driver, registry, keys),
            )
            task = asyncio.create_task(worker.run())
            try:
                yield Runtime(db, driver, workflows, bus, worker)
            finally:
                worker.stop()
                await task
    finally:
        await driver.close()


def _inline_only(
    registry: StepRegistry, services: EngineServices, settings: EngineSettings
) -> InlineOnly | None:
    """A process without a worker still runs on the steps that do no I/O."""
    if not settings.inline_pure_steps:
        return None
    owner = f"{default_worker_id()}:inline"
    lease = timedelta(seconds=settings.lease_seconds)
    return InlineOnly(
        registry,
        services,
        owner,
        lease,
        settings.inline_step_seconds,
        settings.inline_step_output_chars,
    )


def run_limits(settings: EngineSettings) -> RunLimits:
    return RunLimits(
        sub_workflow_depth=settings.max_sub_workflow_depth,
        runs_per_tree=settings.max_runs_per_tree,
        for_each_items=settings.max_for_each_items,
        in_flight_per_workspace=settings.max_runs_in_flight_per_workspace,
        in_flight_per_workflow=settings.max_runs_in_flight_per_workflow,
    )
