"""Assembles the engine for a process: clients, cache, bus and (optionally) a worker."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from towpath.engine.drivers import connect_driver
from towpath.engine.graphs import WorkflowCache
from towpath.engine.worker import Worker, WorkerSettings
from towpath.events.bus import EventBus
from towpath.services.runtime import Runtime
from towpath.steps.services import engine_services

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from towpath.config import Settings
    from towpath.steps.registry import StepRegistry
    from towpath.storage.database import Database


@asynccontextmanager
async def engine_running(
    db: Database, registry: StepRegistry, settings: Settings, *, with_worker: bool
) -> AsyncIterator[Runtime]:
    driver = await connect_driver(settings.database_url, settings.sqlite_synchronous)
    runtime = Runtime(db=db, driver=driver, workflows=WorkflowCache(), bus=EventBus())
    try:
        async with _engine(runtime, registry, settings, with_worker) as running:
            yield running
    finally:
        await driver.close()


@asynccontextmanager
async def _engine(
    runtime: Runtime, registry: StepRegistry, settings: Settings, with_worker: bool
) -> AsyncIterator[Runtime]:
    async with engine_services(settings) as services:
        if not with_worker:
            yield runtime
            return
        worker = Worker(
            runtime.driver,
            registry,
            services,
            runtime.workflows,
            runtime.bus,
            WorkerSettings(
                concurrency=settings.worker_concurrency,
                lease_seconds=settings.lease_seconds,
                poll_seconds=settings.poll_seconds,
                inline_pure_steps=settings.inline_pure_steps,
                shutdown_grace_seconds=settings.shutdown_grace_seconds,
            ),
        )
        task = asyncio.create_task(worker.run())
        try:
            yield runtime
        finally:
            worker.stop()
            await task
