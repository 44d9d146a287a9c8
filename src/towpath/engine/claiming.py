"""When a worker claims, and how much: as much as it has room for, whenever work is
signalled ready or a poll comes round (`claim.py` holds the claim itself)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from towpath.engine.claim import claim_ready_steps
from towpath.engine.fair_share import Turns
from towpath.engine.sql import database_now
from towpath.engine.transition import published

if TYPE_CHECKING:
    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.execution import Execution
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.leases import Leases
    from towpath.engine.run_io import RunCache
    from towpath.engine.settings import WorkerSettings
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.engine.work import Work
    from towpath.events.bus import EventBus

log = logging.getLogger("towpath.engine")


class Claiming:
    def __init__(
        self,
        driver: TransitionDriver,
        workflows: WorkflowCache,
        bus: EventBus,
        settings: WorkerSettings,
        leases: Leases,
        runs: RunCache,
        execution: Execution,
    ) -> None:
        self.driver = driver
        self.d = driver.dialect
        self.workflows = workflows
        self.bus = bus
        self.settings = settings
        self.leases = leases
        self.runs = runs
        self.execution = execution
        self._turns = Turns()

    async def claim_loop(self) -> None:
        while True:
            # Cleared before the claim, so a signal that comes while claiming is kept.
            self.bus.work_ready.clear()
            free = self.settings.concurrency - self.leases.in_flight()
            claimed = await self._claim(free) if free > 0 else []
            self.execution.start(claimed)
            if free > 0:
                # A claim that filled the room may have left more in the queue.
                self.execution.queue_left = bool(claimed) and free <= len(claimed)
            if not claimed or free <= len(claimed):
                await self._wait_for_work()

    async def _claim(self, limit: int) -> list[Work]:
        def claim() -> Gen[tuple[list[Work], list[RunTransaction]]]:
            now = yield from database_now(self.d)
            return (
                yield from claim_ready_steps(
                    self.d,
                    self.workflows,
                    self.settings.worker_id,
                    limit,
                    self.leases.lease,
                    now,
                    self.runs,
                    self._turns,
                )
            )

        try:
            claimed, changed = await self.driver.run(claim)
        except Exception:
            log.warning("claiming failed; trying again", exc_info=True)
            await asyncio.sleep(self.settings.poll_seconds)
            return []
        self.runs.keep(changed)
        self.bus.publish(published(changed))
        return claimed

    async def _wait_for_work(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.poll_seconds):
                await self.bus.work_ready.wait()
