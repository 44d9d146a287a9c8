"""What run services share with the engine in one process: the cache and the bus."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from towpath.engine.outcomes import settle_parents
from towpath.engine.transition import RunTransaction, published

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from towpath.engine.graphs import WorkflowCache
    from towpath.events.bus import EventBus
    from towpath.storage.database import Database


@dataclass(frozen=True)
class Runtime:
    db: Database
    workflows: WorkflowCache
    bus: EventBus

    @asynccontextmanager
    async def transition(self, run_id: str, workspace_id: str) -> AsyncIterator[RunTransaction]:
        """One run's transition in its own transaction; its events go out after the commit."""
        async with self.db.transaction() as session:
            rt = await RunTransaction.open(session, run_id, workspace_id)
            yield rt
            parents = await settle_parents(session, [rt], self.workflows)
        self.announce([rt, *parents])

    def announce(self, transactions: list[RunTransaction]) -> None:
        self.bus.publish(published(transactions))
        self.bus.signal_work()
