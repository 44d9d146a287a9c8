"""The worker: claims ready steps (`claiming`), executes them concurrently and commits
their results in batches (`execution`), renews its leases (`leases`), hears of runs
changed elsewhere (`notices`), and fires due timers."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from towpath.engine.admission import admit_due
from towpath.engine.claiming import Claiming
from towpath.engine.execution import Execution
from towpath.engine.leases import Leases
from towpath.engine.notices import Notices
from towpath.engine.run_io import RunCache, flush_runs, open_runs
from towpath.engine.settings import WorkerSettings, default_worker_id
from towpath.engine.sql import database_now
from towpath.engine.timers import expire_due
from towpath.engine.transition import published
from towpath.steps.execution import CUT_OFF

if TYPE_CHECKING:
    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.results import Applied, Continuation
    from towpath.engine.secret_values import SecretValues
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.events.bus import EventBus
    from towpath.steps.execution import EngineServices
    from towpath.steps.registry import StepRegistry

__all__ = ["Worker", "WorkerSettings", "default_worker_id"]

log = logging.getLogger("towpath.engine")


class Worker:
    def __init__(
        self,
        driver: TransitionDriver,
        registry: StepRegistry,
        services: EngineServices,
        workflows: WorkflowCache,
        bus: EventBus,
        settings: WorkerSettings,
        secrets: SecretValues | None = None,
    ) -> None:
        self.driver = driver
        self.workflows = workflows
        self.bus = bus
        self.settings = settings
        self._stopping = asyncio.Event()
        runs = RunCache()
        self.leases = Leases(driver, bus, settings.worker_id, settings.lease_seconds)
        self.execution = Execution(
            driver,
            registry,
            services,
            workflows,
            bus,
            settings,
            self.leases,
            runs,
            self._stopping,
            secrets,
        )
        self.claiming = Claiming(
            driver, workflows, bus, settings, self.leases, runs, self.execution
        )
        self.notices = Notices(driver, bus, self.leases, settings.notice_seconds)

    async def run(self) -> None:
        claiming = asyncio.create_task(self.claiming.claim_loop())
        loops = [
            self.execution.commit_loop(),
            self.leases.renew_loop(),
            self._timer_loop(),
            self.notices.notice_loop(),
        ]
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            await self._stopping.wait()
            claiming.cancel()
            await self.execution.drain()
        finally:
            executing = list(self.leases.executing.values())
            for task in [claiming, *tasks]:
                task.cancel()
            for task in executing:
                task.cancel(CUT_OFF)
            await asyncio.gather(claiming, *tasks, *executing, return_exceptions=True)
            await self.leases.hand_back()

    def stop(self) -> None:
        self._stopping.set()

    def continuation(self) -> Continuation:
        return self.execution.continuation()

    def take(self, applied: Applied) -> None:
        self.execution.take(applied)

    async def _timer_loop(self) -> None:
        d = self.driver.dialect
        while True:
            await asyncio.sleep(self.settings.poll_seconds)

            def expire() -> Gen[list[RunTransaction]]:
                now = yield from database_now(d)
                expired = yield from expire_due(d, self.workflows, now, limit=100)
                # Runs waiting for a rate window or an unpause start when they may.
                return expired + (yield from admit_due(d, open_runs, flush_runs))

            try:
                changed = await self.driver.run(expire)
            except Exception:
                log.warning("expiring timers failed; trying again", exc_info=True)
                continue
            if changed:
                self.bus.publish(published(changed))
                self.bus.signal_work()
                self.execution.end_children_of(changed)
