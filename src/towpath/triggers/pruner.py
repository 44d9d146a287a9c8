"""The pruner, beside the scheduler in every process that runs a worker: each pass deletes
the finished runs every retention policy no longer keeps, a small batch at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from towpath.domain.clock import utcnow
from towpath.services.retention import every_policy, prune_batch
from towpath.storage.database import Database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from datetime import datetime

    from towpath.engine.runtime import Runtime
    from towpath.triggers.retention_settings import RetentionSettings

log = logging.getLogger(__name__)


@dataclass
class Pruner:
    runtime: Runtime
    batch: int = 200
    pause: float = 0.2
    clock: Callable[[], datetime] = utcnow
    # Told how many runs each batch deleted (the metric).
    on_pruned: Callable[[int], None] | None = None

    async def run_once(self) -> int:
        """One pass at the clock's time: how many runs it deleted."""
        now = self.clock()
        deleted = 0
        for policy in await every_policy(self.runtime.db):
            while True:
                batch = await prune_batch(self.runtime, policy, now, self.batch)
                deleted += batch.deleted
                if batch.deleted and self.on_pruned is not None:
                    self.on_pruned(batch.deleted)
                if not batch.full:
                    break
                await asyncio.sleep(self.pause)
        return deleted

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        failures: tuple[type[BaseException], ...] = (SQLAlchemyError, *self.runtime.driver.errors)
        while not stop.is_set():
            try:
                await self.run_once()
            except failures:
                # The database is away for a moment: the next pass tries again.
                log.exception("retention pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


@contextlib.asynccontextmanager
async def pruner_running(
    runtime: Runtime,
    settings: RetentionSettings,
    *,
    enabled: bool = True,
    on_pruned: Callable[[int], None] | None = None,
) -> AsyncIterator[Pruner | None]:
    """The loop, from entry to exit; none in a process without a worker, or with an
    interval of 0."""
    if not enabled or settings.retention_interval_seconds <= 0:
        yield None
        return
    # Connections of its own, as the scheduler has: a pass never waits for a request's.
    db = runtime.db
    own = Database(db.url, sqlite_synchronous=db.sqlite_synchronous)
    pruner = Pruner(
        replace(runtime, db=own),
        batch=settings.retention_batch,
        pause=settings.retention_pause_seconds,
        on_pruned=on_pruned,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(pruner.run(stop, settings.retention_interval_seconds))
    try:
        yield pruner
    finally:
        stop.set()
        await task
        await own.dispose()
