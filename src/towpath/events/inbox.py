"""One caller's live inbox: what is in it when the stream opens, then each item added,
changed or removed as the events of the caller's workspace go by.

The feed listens to the workspace's committed events; an event that can change whether a
step waits for the caller (a step starting to wait or ending, a vote, an escalation, a
run ending) makes it read that run's items again, through `lookup`, and compare them
with what the client holds. What an item is and who may answer it is the lookup's
business: the feed only tells the differences."""

from __future__ import annotations

import json
from collections import deque
from typing import TYPE_CHECKING

from towpath.domain.states import EventType
from towpath.events.feeds import EXPIRED, Feed
from towpath.events.messages import End, Frame

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from datetime import datetime

    from towpath.events.hub import EventHub
    from towpath.events.subscription import Subscription

    # (run id, step id) → the item's JSON text, for one run's items or (None) all of them.
    InboxLookup = Callable[[str | None], Awaitable[Mapping[tuple[str, str], str]]]

# The events after which a run's items may differ.
CHANGES_ITEMS = frozenset(
    {
        EventType.STEP_WAITING,
        EventType.STEP_COMPLETED,
        EventType.STEP_FAILED,
        EventType.STEP_CANCELLED,
        EventType.STEP_SKIPPED,
        EventType.RUN_COMPLETED,
        EventType.RUN_FAILED,
        EventType.RUN_CANCELLED,
        "approval.vote",
        "approval.escalated",
    }
)


class InboxFeed(Feed):
    def __init__(
        self,
        hub: EventHub,
        sub: Subscription,
        heartbeat: float,
        expires_at: datetime | None,
        lookup: InboxLookup,
    ) -> None:
        super().__init__(hub, sub, heartbeat, expires_at)
        self.lookup = lookup
        # What the client holds, by run and step: each item's text as last sent.
        self.known: dict[tuple[str, str], str] = {}
        self._head: deque[Frame] = deque()

    async def open(self) -> None:
        """Read the inbox as it is, having subscribed first: what changes meanwhile is
        compared again when its event comes."""
        self.known = dict(await self.lookup(None))
        items = ",".join(self.known.values())
        text = f'{{"type":"snapshot","count":{len(self.known)},"items":[{items}]}}'
        self._head.append(Frame(text, "snapshot"))

    def ready(self) -> bool:
        return bool(self._head) or self.sub.pending > 0

    async def next(self) -> Frame | End:
        while True:
            if self.sub.ended is not None:
                return self.sub.ended
            if self._head:
                return self._head.popleft()
            if self.expired():
                return EXPIRED
            runs = self._changed_runs()
            if runs:
                for run_id in runs:
                    self._compare(await self.lookup(run_id), run_id)
                continue
            said = await self.between_events()
            if said is not None:
                return said

    async def resync(self) -> End | None:
        """Events were lost to a full queue: compare the whole inbox again."""
        self.sub.resume()
        self._compare(await self.lookup(None), None)
        return None

    def _changed_runs(self) -> list[str]:
        """The runs of every waiting event whose items may have changed, each once."""
        runs: dict[str, None] = {}
        while (event := self.sub.pop()) is not None:
            if event.frame.name in CHANGES_ITEMS:
                runs[event.run_id] = None
        return list(runs)

    def _compare(self, now: Mapping[tuple[str, str], str], run_id: str | None) -> None:
        """Frames for what differs; each says how many items the inbox holds after it."""
        held = [key for key in self.known if run_id is None or key[0] == run_id]
        for key in held:
            if key not in now:
                del self.known[key]
                ids = {"run_id": key[0], "step_id": key[1], "count": len(self.known)}
                self._head.append(Frame(json.dumps({"type": "removed", **ids}), "removed"))
        for key, item in now.items():
            before = self.known.get(key)
            if before == item:
                continue
            self.known[key] = item
            kind = "added" if before is None else "changed"
            text = f'{{"type":"{kind}","count":{len(self.known)},"item":{item}}}'
            self._head.append(Frame(text, kind))
