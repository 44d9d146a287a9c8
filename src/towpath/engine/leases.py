"""The steps a worker holds: their executions in flight, their leases renewed while they
run, given up when another owner took them, and handed back when the worker stops."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from towpath.engine.outcomes import release_leases
from towpath.engine.sql import database_now, fetch
from towpath.engine.transition import published
from towpath.steps.execution import CUT_OFF

if TYPE_CHECKING:
    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.sql import Gen
    from towpath.engine.work import Work
    from towpath.events.bus import EventBus

log = logging.getLogger("towpath.engine")


class Leases:
    def __init__(
        self, driver: TransitionDriver, bus: EventBus, worker_id: str, lease_seconds: float
    ) -> None:
        self.driver = driver
        self.d = driver.dialect
        self.bus = bus
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.works: dict[str, Work] = {}
        # A step's task stays here after it ends, until its result is recorded.
        self.executing: dict[str, asyncio.Task[None]] = {}

    def hold(self, work: Work, execution: asyncio.Task[None]) -> None:
        self.works[work.step_run_id] = work
        self.executing[work.step_run_id] = execution

    def in_flight(self) -> int:
        return len(self.executing)

    def run_ids(self) -> set[str]:
        return {work.run_id for work in self.works.values()}

    def forget(self, step_run_id: str) -> None:
        """The step's result is recorded (or never will be by this worker)."""
        self.executing.pop(step_run_id, None)
        self.works.pop(step_run_id, None)

    def abandon(self, step_run_id: str) -> None:
        task = self.executing.pop(step_run_id, None)
        self.works.pop(step_run_id, None)
        if task is not None:
            task.cancel(CUT_OFF)

    def abandon_run(self, run_id: str) -> None:
        for work in [w for w in self.works.values() if w.run_id == run_id]:
            self.abandon(work.step_run_id)

    async def renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.renew()
            except self.driver.errors:
                # Two more tries before the leases run out.
                log.warning("renewing leases failed; trying again", exc_info=True)

    async def renew(self) -> None:
        if not self.works:
            return
        works = list(self.works.values())

        def renew() -> Gen[set[tuple[str, str]]]:
            now = yield from database_now(self.d)
            marks = ", ".join("?" for _ in works)
            rows = yield from fetch(
                f"UPDATE step_runs SET lease_expires_at = ? WHERE id IN ({marks})"
                " AND status = 'running' AND lease_owner = ? RETURNING id, lease_token",
                self.d.time(now + self.lease),
                *[w.step_run_id for w in works],
                self.worker_id,
            )
            return {(row[0], row[1]) for row in rows}

        kept = await self.driver.run(renew)
        for work in works:
            if (work.step_run_id, work.lease_token) not in kept:
                # Cancelled, or another worker took it over: stop working on it.
                self.abandon(work.step_run_id)

    async def hand_back(self) -> None:
        """Steps still leased go back to the queue now, not when their lease runs out."""
        works = list(self.works.values())
        self.works.clear()
        if not works:
            return
        changed = await self.driver.run(lambda: release_leases(self.d, works))
        self.bus.publish(published(changed))
