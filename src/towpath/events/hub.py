"""The hub of a process: committed events come in (from this process's bus, or read after a
notification from another process) and go out to the subscriptions that want them, each
run's in seq order, without gaps or duplicates, each serialized once."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from towpath.events import close_codes
from towpath.events.bus import PublishedEvent
from towpath.events.messages import Batch, End, event_message
from towpath.events.subscription import Subscription
from towpath.storage.streams import events_since

if TYPE_CHECKING:
    from collections.abc import Coroutine, Iterable
    from typing import Any

    from towpath.events.access import AccessChange, GrantCheck, Reader
    from towpath.events.messages import StreamEvent
    from towpath.storage.database import Database

    # What goes out, by kind of subscription and key: the events, in order.
    Outgoing = dict[tuple[str, str], list[StreamEvent]]

log = logging.getLogger("towpath.events")

READ_LIMIT = 1000
# Runs whose last fanned-out seq the hub remembers; the oldest are forgotten first.
TRACKED_RUNS = 100_000
# Of runs whose final event went out, far fewer: one is followed again only if it is
# retried, and a server starting a hundred runs a second must not hold every one it saw.
ENDED_RUNS = 10_000
# What a database read may fail with while the database is away.
READ_ERRORS = (SQLAlchemyError, OSError)


class EventHub:
    def __init__(self, db: Database, queue_size: int) -> None:
        self.db = db
        self.queue_size = queue_size
        self._runs: dict[str, set[Subscription]] = {}
        self._workflows: dict[str, set[Subscription]] = {}
        # Every version of a workflow: keyed by its lineage.
        self._lineages: dict[str, set[Subscription]] = {}
        # Lineage streams per workspace: a notification names no lineage (`wants_notice`).
        self._lineage_spaces: Counter[str] = Counter()
        self._workspaces: dict[str, set[Subscription]] = {}
        self._by_kind = {
            "run": self._runs,
            "workflow": self._workflows,
            "lineage": self._lineages,
            "workspace": self._workspaces,
        }
        self._count = 0
        # The last seq fanned out, per run wanted since: a later event must follow it.
        self._last: OrderedDict[str, int] = OrderedDict()
        # The same, for runs whose last fanned-out event ended them.
        self._ended: OrderedDict[str, int] = OrderedDict()
        # Runs whose missing events are being read; what arrives meanwhile waits here.
        self._filling: dict[str, list[PublishedEvent]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- subscriptions -----------------------------------------------------------------

    def subscribe(
        self, kind: str, key: str, workspace_id: str, reader: Reader | None = None
    ) -> Subscription:
        sub = Subscription(kind, key, workspace_id, self.queue_size, reader)
        self._topic(kind).setdefault(key, set()).add(sub)
        self._count += 1
        if kind == "lineage":
            self._lineage_spaces[workspace_id] += 1
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        topic = self._topic(sub.kind)
        subs = topic.get(sub.key)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del topic[sub.key]
        self._count -= 1
        if sub.kind == "lineage":
            self._lineage_spaces[sub.workspace_id] -= 1
            if not self._lineage_spaces[sub.workspace_id]:
                del self._lineage_spaces[sub.workspace_id]

    def subscriber_count(self) -> int:
        """Open subscriptions in this process: one per open socket or event stream."""
        return self._count

    def wants(self, event: PublishedEvent) -> bool:
        return (
            event.run_id in self._runs
            or event.workflow_id in self._workflows
            or event.workspace_id in self._workspaces
            or (event.lineage_id is not None and event.lineage_id in self._lineages)
        )

    def wants_notice(self, workspace_id: str, workflow_id: str, run_id: str) -> bool:
        """What another process's notification names (no lineage) may be wanted: a stream
        of every version of a workflow in the workspace takes any of its runs' events, to
        tell once they are read."""
        return (
            run_id in self._runs
            or workflow_id in self._workflows
            or workspace_id in self._workspaces
            or any(
                sub.workspace_id == workspace_id for subs in self._lineages.values() for sub in subs
            )
        )

    def last_seq(self, run_id: str) -> int | None:
        last = self._last.get(run_id)
        return self._ended.get(run_id) if last is None else last

    def forget(self, run_id: str) -> None:
        """Events of the run go by unseen here: what was fanned out before no longer counts."""
        self._last.pop(run_id, None)
        self._ended.pop(run_id, None)

    def catch_up_cursors(self) -> dict[str, int]:
        """Where each watched run's events must be read from again after notifications
        may have been lost: the last seq fanned out, else the least a client was sent."""
        cursors: dict[str, int] = {}
        for run_id, subs in self._runs.items():
            last = self.last_seq(run_id)
            if last is None:
                sent = [sub.cursor for sub in subs if sub.cursor is not None]
                if not sent:
                    continue
                last = min(sent)
            cursors[run_id] = last
        return cursors

    def end_all(self, end: End, *, multi_run_only: bool = False) -> None:
        topics = [self._workflows, self._lineages, self._workspaces]
        if not multi_run_only:
            topics.append(self._runs)
        for topic in topics:
            for subs in topic.values():
                for sub in subs:
                    sub.end(end)

    def access_changed(self, change: AccessChange) -> None:
        """End the streams read with access that ended (4401, saying why)."""
        if not change.ends_reading:
            return
        end = End(close_codes.REVOKED, change.reason)
        for sub in self._subscriptions():
            reader = sub.reader
            if (
                reader is not None
                and reader.subject == change.subject
                and sub.workspace_id == change.workspace_id
            ):
                sub.end(end)

    def access_missed(self, check: GrantCheck) -> None:
        self._spawn(self.recheck_access(check))

    async def recheck_access(self, check: GrantCheck) -> None:
        """Access may have ended unheard (the notification connection was lost): confirm
        what every open stream stands on again, and end those whose access is gone."""
        grants = {
            (sub.workspace_id, sub.reader.grant)
            for sub in self._subscriptions()
            if sub.reader is not None and sub.reader.grant is not None
        }
        for workspace_id, grant in grants:
            try:
                reason = await check(workspace_id, grant)
            except READ_ERRORS:
                log.warning("could not confirm the access of open streams", exc_info=True)
                end = End(close_codes.RECONNECT, "access could not be confirmed; reconnect")
            else:
                if reason is None:
                    continue
                end = End(close_codes.REVOKED, reason)
            for sub in self._subscriptions():
                if sub.workspace_id == workspace_id and sub.reader and sub.reader.grant == grant:
                    sub.end(end)

    def _subscriptions(self) -> list[Subscription]:
        return [sub for topic in self._topics() for subs in topic.values() for sub in subs]

    def _topics(self) -> tuple[dict[str, set[Subscription]], ...]:
        return (self._runs, self._workflows, self._lineages, self._workspaces)

    def _topic(self, kind: str) -> dict[str, set[Subscription]]:
        return self._by_kind[kind]

    # --- events in -----------------------------------------------------------------------

    def accept(self, event: PublishedEvent) -> None:
        """A committed event, from whichever path; duplicates and gaps are handled here."""
        self.accept_all((event,))

    def accept_all(self, events: Iterable[PublishedEvent]) -> None:
        """Committed events, in the order they were published. Each key's subscriptions
        are offered the events of the key as one batch."""
        out: Outgoing = {}
        for event in events:
            self._accept(event, out)
        self._offer(out)

    def _accept(self, event: PublishedEvent, out: Outgoing) -> None:
        run_id = event.run_id
        if not self.wants(event):
            self.forget(run_id)
            return
        waiting = self._filling.get(run_id)
        if waiting is not None:
            waiting.append(event)
            return
        last = self.last_seq(run_id)
        if last is not None and event.seq <= last:
            return
        if last is None or event.seq == last + 1:
            self._fan_out(event, out)
            return
        # Events between the last fanned out and this one have not come yet (published
        # out of order, or another process's): read them; they are committed already.
        self._filling[run_id] = [event]
        self._spawn(self._fill(run_id, last))

    async def read_events(self, cursors: dict[str, int]) -> list[PublishedEvent]:
        """Every committed event past each run's cursor, in as few reads as it takes."""
        found: list[PublishedEvent] = []
        cursors = dict(cursors)
        while cursors:
            read = await self.db.reading(events_since, cursors, READ_LIMIT)
            rows = [PublishedEvent(*row) for row in read]
            found += rows
            if len(rows) < READ_LIMIT:
                break
            # Rows come run by run in id order: the runs before the last one are complete.
            last = rows[-1]
            cursors = {run: after for run, after in cursors.items() if run >= last.run_id}
            cursors[last.run_id] = last.seq
        return found

    async def _fill(self, run_id: str, after: int) -> None:
        try:
            rows: list[PublishedEvent] | None = await self.read_events({run_id: after})
        except READ_ERRORS:
            log.warning("could not read the missing events of run %s", run_id, exc_info=True)
            rows = None
        waiting = self._filling.pop(run_id, [])
        if rows is None:
            self._lost(run_id)
            return
        out: Outgoing = {}
        for event in [*rows, *sorted(waiting, key=seq_of)]:
            last = self.last_seq(run_id)
            if last is not None and event.seq <= last:
                continue
            if last is not None and event.seq != last + 1:
                # Not in the database even now (the run was deleted): go on from here.
                log.warning("run %s: events %d-%d are missing", run_id, last + 1, event.seq - 1)
            if self.wants(event):
                self._fan_out(event, out)
        self._offer(out)

    def _lost(self, run_id: str) -> None:
        """The run's missing events cannot be read: its clients must start over."""
        self.forget(run_id)
        for sub in self._runs.get(run_id, ()):
            sub.overflow()
        lost = End(close_codes.RECONNECT, "events could not be read; reconnect")
        for topic in (self._workflows, self._lineages, self._workspaces):
            for subs in topic.values():
                for sub in subs:
                    sub.end(lost)

    def _fan_out(self, event: PublishedEvent, out: Outgoing) -> None:
        """Adds the event to what goes out to each key that has subscriptions."""
        run_id = event.run_id
        message = event_message(event)
        if message.ends_run:
            self._last.pop(run_id, None)
            _remember(self._ended, run_id, event.seq, ENDED_RUNS)
        else:
            self._ended.pop(run_id, None)
            _remember(self._last, run_id, event.seq, TRACKED_RUNS)
        for kind, topic, key in (
            ("run", self._runs, run_id),
            ("workflow", self._workflows, event.workflow_id),
            ("lineage", self._lineages, event.lineage_id),
            ("workspace", self._workspaces, event.workspace_id),
        ):
            if key is not None and key in topic:
                out.setdefault((kind, key), []).append(message)

    def _offer(self, out: Outgoing) -> None:
        for (kind, key), messages in out.items():
            subs = self._topic(kind).get(key)
            if subs:
                batch = Batch(messages)
                for sub in subs:
                    sub.offer_batch(batch)

    # --- lifetime ------------------------------------------------------------------------

    def start(self, tick: float) -> None:
        """Wake the streams that are due (a ping, an expired credential) every `tick`."""
        self._spawn(self._ticking(tick))

    async def _ticking(self, tick: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            for topic in self._topics():
                for subs in list(topic.values()):
                    for sub in subs:
                        sub.wake_if_due(now)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self.end_all(End(close_codes.GOING_AWAY, "the server is stopping"))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def seq_of(event: PublishedEvent) -> int:
    return event.seq


def _remember(seqs: OrderedDict[str, int], run_id: str, seq: int, most: int) -> None:
    seqs[run_id] = seq
    seqs.move_to_end(run_id)
    if len(seqs) > most:
        seqs.popitem(last=False)
