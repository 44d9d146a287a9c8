"""Sends in progress to stream clients, and the watch that stops the ones that stall.

A timer per send would cost more than the send; instead each send notes when it began,
and one task looks, a few times per timeout, for the sends that began too long ago."""

from __future__ import annotations

import asyncio


class SendWatch:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self._began: dict[asyncio.Task[None], float] = {}
        self._stalled: set[asyncio.Task[None]] = set()
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._watch())

    def begin(self, sender: asyncio.Task[None]) -> None:
        self._began[sender] = self._loop.time()

    def end(self, sender: asyncio.Task[None]) -> None:
        self._began.pop(sender, None)

    def stalled(self, sender: asyncio.Task[None]) -> bool:
        """Whether the watch cancelled this sender (and forgets that it did)."""
        if sender in self._stalled:
            self._stalled.discard(sender)
            return True
        return False

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.timeout / 4)
            limit = self._loop.time() - self.timeout
            for sender, began in list(self._began.items()):
                if began < limit:
                    del self._began[sender]
                    self._stalled.add(sender)
                    sender.cancel()

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
