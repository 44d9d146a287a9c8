"""What one client is sent, whatever carries it: a run's snapshot (or the events it missed)
then its live events; or the live events of many runs. With heartbeats, resyncs, and the
reason a stream ends."""

from __future__ import annotations

import asyncio
import math
from abc import ABC, abstractmethod
from collections import deque
from typing import TYPE_CHECKING

from towpath.domain.clock import utcnow
from towpath.domain.errors import InvalidRequest
from towpath.events import close_codes
from towpath.events.bus import PublishedEvent
from towpath.events.messages import (
    PING_FRAME,
    RESYNC_FRAME,
    RUN_ENDED,
    RUN_ENDED_STATUSES,
    End,
    Frame,
    event_message,
)
from towpath.storage.streams import replay_page, run_snapshot

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable
    from datetime import datetime

    from towpath.events.access import Reader
    from towpath.events.hub import EventHub
    from towpath.events.messages import Batch
    from towpath.events.subscription import Subscription
    from towpath.storage.streams import RunSnapshot

    SnapshotText = Callable[[RunSnapshot], str]

REPLAY_PAGE = 500
EXPIRED = End(close_codes.CREDENTIAL_EXPIRED, "the credential has expired")
RUN_OVER = End(close_codes.RUN_ENDED, "the run has ended")
# The client went away: nothing more is sent, not even a close.
LEFT = End(close_codes.RUN_ENDED, "the client left")


class CursorAhead(InvalidRequest):
    code = "STREAM_CURSOR_AHEAD"

    def __init__(self, run_id: str, after: int, last_seq: int) -> None:
        super().__init__(
            f"run {run_id!r} has no event {after} yet; its last is {last_seq}",
            details={"id": run_id, "after": after, "last_seq": last_seq},
        )


class Feed(ABC):
    """A subscription and the wait between events: heartbeats, expiry, the end. A run's
    feed and a live feed of many runs differ in what comes next and in how they resync."""

    sends_directly = False

    def __init__(
        self, hub: EventHub, sub: Subscription, heartbeat: float, expires_at: datetime | None
    ) -> None:
        self.hub = hub
        self.sub = sub
        self.heartbeat = heartbeat
        self._loop = asyncio.get_running_loop()
        # On the loop's clock, so checking it costs no system call per event.
        self._deadline = (
            None
            if expires_at is None
            else self._loop.time() + (expires_at - utcnow()).total_seconds()
        )
        self._write_now: Callable[[bytes], bool] | None = None

    def write_directly(self, write_now: Callable[[bytes], bool]) -> None:
        """While the stream waits, the next event may go out through `write_now` (False
        if it cannot take it now: a client reading too slowly, or gone) as the hub offers
        it, instead of waking the stream's task: at a thousand sockets, waking a task and
        running the stream to its send costs more than the send. A feed that tells events
        its own way (`sends_directly` False) sends everything from its task."""
        if self.sends_directly:
            self._write_now = write_now
            self.sub.direct = self.deliver

    def deliver(self, batch: Batch) -> bool:
        """Writes the events now if they simply come next; False leaves them queued."""
        return False

    async def frames(self) -> AsyncIterator[Frame | End]:
        """What to send, in order, until the stream ends (with an End) or the client left."""
        while True:
            item = await self.next()
            if item is LEFT:
                return
            yield item
            if isinstance(item, End):
                return

    @abstractmethod
    async def next(self) -> Frame | End:
        """The next thing to send, waiting for it if there is none yet."""

    def ready(self) -> bool:
        """Something is waiting to be sent: `next` answers at once."""
        return self.sub.pending > 0

    @abstractmethod
    async def resync(self) -> End | None:
        """The client fell behind: start it over (None), or say why the stream ends."""

    def close(self) -> None:
        """Frees the subscription at once; safe to call more than once."""
        self.hub.unsubscribe(self.sub)
        # The subscription and this feed refer to each other through `direct`.
        self.sub.direct = None
        self._write_now = None

    def expired(self) -> bool:
        return self._deadline is not None and self._loop.time() >= self._deadline

    async def between_events(self) -> Frame | End | None:
        """No event is waiting: why the stream stops (LEFT when the client went away),
        a ping, or None when there is something to send again."""
        sub = self.sub
        if sub.left:
            return LEFT
        if sub.ended is not None:
            return sub.ended
        if sub.overflowed:
            return await self.resync()
        due = self._loop.time() + self.heartbeat
        if self._deadline is not None:
            if self.expired():
                return EXPIRED
            due = min(due, self._deadline)
        sub.due = due
        try:
            await sub.wait()
        finally:
            sub.due = math.inf
        if sub.pending or sub.left or sub.overflowed or sub.ended is not None:
            return None
        if self.expired():
            return EXPIRED
        return PING_FRAME if self._loop.time() >= due else None


class LiveFeed(Feed):
    """The live events of every run of a workflow, or of a workspace, from now on. Per
    run in seq order and without gaps; a client too slow to keep up is closed."""

    sends_directly = True

    async def next(self) -> Frame | End:
        while True:
            if self.expired():
                return EXPIRED
            event = self.sub.pop()
            if event is not None:
                return event.frame
            said = await self.between_events()
            if said is not None:
                return said

    async def resync(self) -> End | None:
        return End(close_codes.TOO_SLOW, "the client fell behind; reconnect")

    def deliver(self, batch: Batch) -> bool:
        write = self._write_now
        return write is not None and not self.expired() and write(batch.wire)


class RunFeed(Feed):
    """One run: a snapshot (or the events after `after`), then every later event in seq
    order. What the subscription delivers at or below what was sent is dropped; a jump
    is filled from the database; an overflow resynchronises with a fresh snapshot."""

    sends_directly = True

    def __init__(
        self,
        hub: EventHub,
        run_id: str,
        workspace_id: str,
        render: SnapshotText,
        heartbeat: float,
        expires_at: datetime | None,
        reader: Reader | None = None,
    ) -> None:
        sub = hub.subscribe("run", run_id, workspace_id, reader)
        super().__init__(hub, sub, heartbeat, expires_at)
        self.run_id = run_id
        self.workspace_id = workspace_id
        self.render = render
        self.cursor = 0
        # The run's workflow, once its snapshot was read.
        self.workflow_id: str | None = None
        # Frames to send before looking at the subscription again.
        self._head: deque[Frame | End] = deque()
        self._replaying = False

    async def open(self, after: int | None) -> None:
        """Reads what comes before the live events, having subscribed first, so nothing
        committed in between is missed. Raises RunNotFound for a run the caller cannot see."""
        try:
            if after is None:
                await self._snapshot()
            else:
                self.cursor = after
                await self._replay()
        except BaseException:
            self.close()
            raise

    def ready(self) -> bool:
        # Events the snapshot already holds are dropped now: `next` would drop them and
        # wait, while the stream holds its snapshot unsent.
        self.sub.drop_through(self.cursor)
        return bool(self._head) or self.sub.pending > 0

    @property
    def finished(self) -> bool:
        """The run had ended and the client has seen all of it: nothing will be sent."""
        return bool(self._head) and isinstance(self._head[0], End)

    async def next(self) -> Frame | End:
        sub = self.sub
        while True:
            if sub.ended is not None:
                # Ended from outside (revoked access, shutdown): what was read is not sent.
                return sub.ended
            if self._head:
                item = self._head.popleft()
                if isinstance(item, Frame):
                    if item.id is not None:
                        self.cursor = sub.cursor = item.id
                    if item.name in RUN_ENDED and self._settled():
                        self._head.append(RUN_OVER)
                return item
            if self._replaying:
                await self._replay()
                continue
            if self.expired():
                return EXPIRED
            event = sub.pop()
            if event is None:
                said = await self.between_events()
                if said is not None:
                    return said
                continue
            if event.seq == self.cursor + 1:
                # The common case, kept short: the next event, nothing queued before it.
                self.cursor = sub.cursor = event.seq
                if event.ends_run and self._settled():
                    self._head.append(RUN_OVER)
                return event.frame
            if event.seq > self.cursor:
                await self._fill(event.seq)
                self._head.append(event.frame)

    def deliver(self, batch: Batch) -> bool:
        # What are not the plain next events (a gap to fill, a run ended and then retried)
        # are left to the stream's task.
        write = self._write_now
        if (
            write is None
            or self._head
            or batch.first_seq != self.cursor + 1
            or batch.ended_before_last
            or self.expired()
            or not write(batch.wire)
        ):
            return False
        self.cursor = self.sub.cursor = batch.last_seq
        if batch.ends_run:
            # The run's final event went out: the stream's task closes the stream, woken
            # once every other stream's write of this turn has gone.
            self._head.append(RUN_OVER)
            self._loop.call_soon(self.sub.wake)
        return True

    async def resync(self) -> End | None:
        self.sub.resume()
        self._head.append(RESYNC_FRAME)
        await self._snapshot()
        return None

    def _settled(self) -> bool:
        """Nothing after the run's final event is known: the run really has ended."""
        return not self._head and not self._replaying and self.sub.pending == 0

    async def _snapshot(self) -> None:
        snapshot = await self.hub.db.reading(
            run_snapshot, self.run_id, self.workspace_id, consistent=True
        )
        self.workflow_id = snapshot.run.workflow_id
        self._head.append(Frame(self.render(snapshot), "snapshot", snapshot.seq))
        if snapshot.run.status in RUN_ENDED_STATUSES:
            self._head.append(RUN_OVER)

    async def _replay(self) -> None:
        """One page of the events after the cursor; the next page when this one is sent."""
        page = await self.hub.db.reading(
            replay_page,
            self.run_id,
            self.workspace_id,
            self._last_known(),
            REPLAY_PAGE,
            consistent=True,
        )
        if self._last_known() > page.last_seq:
            raise CursorAhead(self.run_id, self._last_known(), page.last_seq)
        self._queue(PublishedEvent(*row) for row in page.events)
        self._replaying = len(page.events) == REPLAY_PAGE
        if (
            not self._replaying
            and page.status in RUN_ENDED_STATUSES
            and self._last_known() >= page.last_seq
        ):
            self._head.append(RUN_OVER)

    async def _fill(self, before: int) -> None:
        """Events between what was sent and `before`, committed but not delivered here."""
        events = await self.hub.read_events({self.run_id: self._last_known()})
        self._queue(event for event in events if event.seq < before)

    def _queue(self, events: Iterable[PublishedEvent]) -> None:
        for event in events:
            if event.seq > self._last_known():
                self._head.append(event_message(event).frame)

    def _last_known(self) -> int:
        """The seq of the last event sent or about to be sent."""
        for item in reversed(self._head):
            if isinstance(item, Frame) and item.id is not None:
                return item.id
        return self.cursor
