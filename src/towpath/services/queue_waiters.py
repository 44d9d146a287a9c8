"""Pollers waiting on a queue, woken in this process the moment a task is put on it."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from typing import TYPE_CHECKING

from towpath.domain.states import EventType

if TYPE_CHECKING:
    from collections.abc import Iterator

    from towpath.events.bus import PublishedEvent


class QueueWaiters:
    def __init__(self, max_wait_seconds: float = 30.0) -> None:
        # The longest a long poll is held, whatever it asks (a server may hold fewer).
        self.max_wait_seconds = max_wait_seconds
        self._waiting: dict[tuple[str, str], set[asyncio.Event]] = {}

    def on_event(self, event: PublishedEvent) -> None:
        """A `task` step that starts waiting has just put its task on a queue."""
        if event.event_type != EventType.STEP_WAITING or event.data.get("step_type") != "task":
            return
        request = event.data.get("request")
        queue = request.get("queue") if isinstance(request, dict) else None
        for woken in self._waiting.get((event.workspace_id, str(queue)), ()):
            woken.set()

    @contextmanager
    def waiting(self, workspace_id: str, queue: str) -> Iterator[asyncio.Event]:
        key = (workspace_id, queue)
        woken = asyncio.Event()
        self._waiting.setdefault(key, set()).add(woken)
        try:
            yield woken
        finally:
            waiters = self._waiting.get(key)
            if waiters is not None:
                waiters.discard(woken)
                if not waiters:
                    del self._waiting[key]
