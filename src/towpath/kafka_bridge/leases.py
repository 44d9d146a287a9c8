"""The leases the bridge holds: tasks it published and has not seen answered. Their number is
bounded, and each is renewed until its result comes back or towpath says it is lost."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from towpath.kafka_bridge.queue_client import Answer, TowpathUnavailable

if TYPE_CHECKING:
    from towpath.kafka_bridge.messages import LeasedTask
    from towpath.kafka_bridge.queue_client import QueueClient

log = logging.getLogger("towpath.kafka_bridge")


class HeldLeases:
    """Tasks out on Kafka under a lease of this bridge, at most `limit` at once."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held: dict[str, LeasedTask] = {}
        self._changed = asyncio.Condition()

    def __len__(self) -> int:
        return len(self._held)

    async def room(self) -> int:
        """How many more tasks may go out; waits while there is no room."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._held) < self._limit)
            return self._limit - len(self._held)

    def hold(self, task: LeasedTask) -> None:
        # A task leased again (its earlier lease lost) is held under its new token only.
        self._held[task.task_id] = task

    async def release(self, task_id: str, lease_token: str) -> None:
        """Lets go of the task if it is held under this token: an answer under an older
        token says nothing about the lease held now."""
        held = self._held.get(task_id)
        if held is None or held.lease_token != lease_token:
            return
        del self._held[task_id]
        async with self._changed:
            self._changed.notify_all()

    async def renew(self, queue: QueueClient, extend_seconds: int) -> None:
        """Heartbeats every held lease once; a lease towpath calls lost is let go."""
        for task in list(self._held.values()):
            try:
                answer = await queue.heartbeat(task, extend_seconds)
            except TowpathUnavailable as unavailable:
                log.warning("heartbeat of task %s not delivered: %s", task.task_id, unavailable)
                continue
            if answer is Answer.REFUSED:
                log.info("lease of task %s is lost; its task is the queue's again", task.task_id)
                await self.release(task.task_id, task.lease_token)
