"""What a worker hears of runs changed elsewhere: from this process's bus, and from other
processes through the database, so it claims at once and stops steps of ended runs."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from towpath.domain.states import EventType
from towpath.engine.sql import fetch

if TYPE_CHECKING:
    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.leases import Leases
    from towpath.engine.sql import Gen
    from towpath.events.bus import EventBus, PublishedEvent

log = logging.getLogger("towpath.engine")

# Every committed run event is announced here by a trigger (migration 0002), with the
# payload `<workspace_id> <workflow_id> <run_id> <seq>`.
RUN_EVENTS_CHANNEL = "towpath_run_events"

_ENDING = frozenset({EventType.RUN_CANCELLED, EventType.RUN_FAILED})


class Notices:
    def __init__(
        self, driver: TransitionDriver, bus: EventBus, leases: Leases, notice_seconds: float
    ) -> None:
        self.driver = driver
        self.d = driver.dialect
        self.bus = bus
        self.leases = leases
        self.notice_seconds = notice_seconds
        # Runs other processes changed, heard through the database since last looked at.
        self._heard: set[str] = set()
        self._heard_all = False
        self._hearing = asyncio.Event()
        # A run cancelled in this process stops its steps at once, not at the next renewal.
        bus.listen(self._on_event)

    def _on_event(self, event: PublishedEvent) -> None:
        if event.event_type in _ENDING:
            self.leases.abandon_run(event.run_id)

    def _heard_from(self, payload: str) -> None:
        parts = payload.split(" ")
        if len(parts) == 4:
            self._heard.add(parts[2])
        else:
            self._heard_all = True  # the listener reconnected: anything may have happened
        self._hearing.set()

    async def notice_loop(self) -> None:
        """Another process started a run or left a step ready: claim now, not at the next
        poll. It cancelled a run this worker executes steps of: stop them now, not at the
        next lease renewal. At most once per `notice_seconds`, however busy the database."""
        async with self.driver.notifications(RUN_EVENTS_CHANNEL, self._heard_from) as hearing:
            if not hearing:
                return
            while True:
                await self._hearing.wait()
                self._hearing.clear()
                heard, everything = self._heard, self._heard_all
                self._heard, self._heard_all = set(), False
                self.bus.signal_work()
                executing = self.leases.run_ids()
                await self._stop_ended_runs(executing if everything else executing & heard)
                await asyncio.sleep(self.notice_seconds)

    async def _stop_ended_runs(self, run_ids: set[str]) -> None:
        if not run_ids:
            return
        d = self.d

        def statuses() -> Gen[list[tuple[Any, ...]]]:
            return (
                yield from fetch(
                    f"SELECT id FROM runs WHERE {d.any_of('id')}"
                    " AND status IN ('completed', 'failed', 'cancelled')",
                    d.ids(sorted(run_ids)),
                )
            )

        try:
            ended = await self.driver.run(statuses)
        except self.driver.errors:
            log.warning("could not look at runs changed elsewhere", exc_info=True)
            return
        for (run_id,) in ended:
            self.leases.abandon_run(run_id)
