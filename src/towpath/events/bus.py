"""In-process fan-out of committed run events, and the signal that work is ready."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 - a dataclass field type
from typing import Any


@dataclass(frozen=True)
class PublishedEvent:
    workspace_id: str
    run_id: str
    workflow_id: str
    seq: int
    event_type: str
    step_id: str | None
    data: dict[str, Any]
    created_at: datetime
    # The run's workflow lineage: a stream of every version of the workflow follows it.
    lineage_id: str | None = None


Listener = Callable[[PublishedEvent], None]
# Takes the events of one publish (a commit) together, in order.
BatchListener = Callable[[list[PublishedEvent]], None]


class EventBus:
    """Publish only after the commit: what listeners see is what the database holds."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._batch_listeners: list[BatchListener] = []
        self.work_ready = asyncio.Event()

    def listen(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def listen_all(self, listener: BatchListener) -> Callable[[], None]:
        self._batch_listeners.append(listener)
        return lambda: self._batch_listeners.remove(listener)

    def publish(self, events: list[PublishedEvent]) -> None:
        for event in events:
            for listener in list(self._listeners):
                listener(event)
        if events:
            for batch_listener in list(self._batch_listeners):
                batch_listener(events)

    def signal_work(self) -> None:
        self.work_ready.set()
