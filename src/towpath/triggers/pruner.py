"""The pruner, beside the scheduler in every process that runs a worker: each pass deletes
the finished runs every retention policy no longer keeps, then the old records beside
them and the expired idempotency keys, a small batch at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from towpath.domain.clock import utcnow
from towpath.services.record_retention import prune_records
from towpath.services.retention import every_policy, prune_batch

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
    # Days finished records are kept (0: for ever), and how long a request may hold an
    # idempotency key before it is taken to have died.
    records_days: int = 30
    key_lock: timedelta = field(default=timedelta(seconds=60))
    # How many rows of each table the last pass deleted, beside the runs.
    records_pruned: dict[str, int] = field(default_factory=dict)

    async def run_once(self) -> int:
        """One pass at the clock's time: how many runs it deleted (the records it deleted
        are in `records_pruned`)."""
        now = self.clock()
        deleted = await self._runs(now)
        self.records_pruned = await prune_records(
            self.runtime, now, self.records_days, self.key_lock, self.batch, self.pause
        )
        found = {table: count for table, count in self.records_pruned.items() if count}
        if found:
            log.info("old records pruned: %s", found)
        return deleted

    async def _runs(self, now: datetime) -> int:
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
    key_lock_seconds: float = 60,
) -> AsyncIterator[Pruner | None]:
    """The loop, from entry to exit; none in a process without a worker, or with an
    interval of 0."""
    if not enabled or settings.retention_interval_seconds <= 0:
        yield None
        return
    # Connections of its own, as the scheduler has: a pass never waits for a request's.
    db = runtime.db
    own = db.alike()
    pruner = Pruner(
        replace(runtime, db=own),
        batch=settings.retention_batch,
        pause=settings.retention_pause_seconds,
        on_pruned=on_pruned,
        records_days=settings.retention_records_days,
        key_lock=timedelta(seconds=key_lock_seconds),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(pruner.run(stop, settings.retention_interval_seconds))
    try:
        yield pruner
    finally:
        stop.set()
        await task
        await own.dispose()
