"""One client's place in the hub: a bounded queue the hub fills without ever waiting."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from towpath.events.access import Reader
    from towpath.events.messages import Batch, End, StreamEvent


log = logging.getLogger("towpath.events")


class Subscription:
    """What the hub offers goes in at once or not at all: a client that falls more than
    `limit` events behind loses its queue and is marked `overflowed`, so its stream can
    resynchronise or close, never skip silently."""

    __slots__ = (
        "_limit",
        "_queue",
        "_waiter",
        "cursor",
        "direct",
        "due",
        "ended",
        "key",
        "kind",
        "left",
        "overflowed",
        "reader",
        "workspace_id",
    )

    def __init__(
        self, kind: str, key: str, workspace_id: str, limit: int, reader: Reader | None = None
    ) -> None:
        self.kind = kind
        self.key = key
        self.workspace_id = workspace_id
        # Who reads it: its stream ends when that reader's access does.
        self.reader = reader
        self._limit = limit
        self._queue: deque[StreamEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        # Set by the hub when it ends the stream: shutdown, lost notifications, revoked access.
        self.ended: End | None = None
        # Set when the client went away.
        self.left = False
        # The last seq a run stream has sent: where to catch up from after the
        # notification connection was lost.
        self.cursor: int | None = None
        # When (on the loop's clock) a waiting stream wants waking without an event: its
        # next ping, or its credential's expiry. The hub's tick wakes it then.
        self.due = math.inf
        # Set by a stream that can write events itself: while it waits with nothing
        # queued, an offered batch goes out through it (unless it says False), and its
        # task sleeps on.
        self.direct: Callable[[Batch], bool] | None = None

    def offer_batch(self, batch: Batch) -> None:
        if self.overflowed or self.ended is not None or self.left:
            return
        waiter, direct = self._waiter, self.direct
        if (
            direct is not None
            and waiter is not None
            and not waiter.done()
            and not self._queue
            and _sent(direct, batch)
        ):
            return
        for event in batch.events:
            self.offer(event)

    def offer(self, event: StreamEvent) -> None:
        if self.overflowed or self.ended is not None or self.left:
            return
        if len(self._queue) >= self._limit:
            self.overflow()
            return
        self._queue.append(event)
        self._wake()

    def overflow(self) -> None:
        self._queue.clear()
        self.overflowed = True
        self._wake()

    def resume(self) -> None:
        """The stream resynchronised: events offered from now on are queued again."""
        self.overflowed = False

    def end(self, end: End) -> None:
        if self.ended is not None:
            return  # the first reason stands
        self._queue.clear()
        self.ended = end
        self._wake()

    def leave(self) -> None:
        self._queue.clear()
        self.left = True
        self._wake()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def drop_through(self, seq: int) -> None:
        """Drops the queued events at or below `seq`: a run stream sent them already."""
        queue = self._queue
        while queue and queue[0].seq <= seq:
            queue.popleft()

    def pop(self) -> StreamEvent | None:
        """The next event, unless there is none or the stream must stop or resync first."""
        if self._queue and not (self.overflowed or self.left or self.ended is not None):
            return self._queue.popleft()
        return None

    async def wait(self) -> None:
        """Until an event is offered, the stream is flagged, or the hub's tick finds the
        subscription due. No timer per wait: at a thousand streams, arming and cancelling
        one per event costs more than sending the event."""
        if self._queue or self.overflowed or self.left or self.ended is not None:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def wake_if_due(self, now: float) -> None:
        if now >= self.due:
            self._wake()

    def wake(self) -> None:
        """Wakes the stream's task: its feed has something of its own to send."""
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _sent(direct: Callable[[Batch], bool], batch: Batch) -> bool:
    try:
        return direct(batch)
    except Exception:
        # The hub offers from the engine's publishing after a commit: one socket's failure
        # must not reach it. The stream's task sends the events instead.
        log.exception("a stream could not be written to directly")
        return False
