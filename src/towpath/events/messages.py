"""The messages of live streams. An event is serialized once, in the hub, and the same
text goes to every subscriber, over WebSocket and Server-Sent Events alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, TypeVar

from pydantic_core import to_json

from towpath.domain.states import RUN_TERMINAL, EventType
from towpath.events.frames import text_frame

if TYPE_CHECKING:
    from collections.abc import Callable

    from towpath.events.bus import PublishedEvent

T = TypeVar("T")

# The last event of a run; a run stream closes after sending one.
RUN_ENDED = frozenset({EventType.RUN_COMPLETED, EventType.RUN_FAILED, EventType.RUN_CANCELLED})
RUN_ENDED_STATUSES = RUN_TERMINAL

PING = '{"type":"ping"}'
RESYNC = '{"type":"resync"}'


class Shared:
    """What goes to every subscriber alike, and what is made of it once for them all."""

    __slots__ = ("_derived",)

    def __init__(self) -> None:
        self._derived: dict[str, Any] | None = None

    def derived(self, key: str, make: Callable[[Self], T]) -> T:
        """What `make` says of this, made once for every subscriber it goes to: a
        thousand clients of a profile's stream translate an event once, not a thousand
        times."""
        if self._derived is None:
            self._derived = {}
        if key not in self._derived:
            self._derived[key] = make(self)
        found: T = self._derived[key]
        return found


class Frame(Shared):
    """One message for a client, ready to go: its text, the ASGI message that sends it
    over a WebSocket (the same object for every subscriber), and its name and id for
    Server-Sent Events. An event's frame keeps the event it says (`event`), so a stream
    that tells it otherwise need not parse the text again."""

    __slots__ = ("_wire", "event", "id", "message", "name", "text")

    def __init__(
        self, text: str, name: str, id: int | None = None, event: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.text = text
        self.name = name
        self.id = id
        self.event = event
        self.message = {"type": "websocket.send", "text": text}
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        """The WebSocket frame's bytes, encoded once for every client that gets it."""
        if self._wire is None:
            self._wire = text_frame(self.text)
        return self._wire

    def sse(self) -> str:
        head = f"id: {self.id}\n" if self.id is not None else ""
        return f"{head}event: {self.name}\ndata: {self.text}\n\n"


@dataclass(frozen=True, slots=True)
class End:
    """The stream is over: close with this code (a WebSocket) or end the response (SSE)."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """A committed event as the hub hands it to subscriptions: its place, and its frame."""

    workspace_id: str
    workflow_id: str
    run_id: str
    seq: int
    frame: Frame

    @property
    def ends_run(self) -> bool:
        return self.frame.name in RUN_ENDED


class Batch(Shared):
    """Events of one key (a run, a workflow, a workspace) committed together, in order, as
    the hub offers them to every subscription of the key: a stream waiting for them is
    sent their frames in one write, joined once for every such stream."""

    __slots__ = (
        "_wire",
        "ended_before_last",
        "ends_run",
        "events",
        "first_seq",
        "last_seq",
    )

    def __init__(self, events: list[StreamEvent]) -> None:
        super().__init__()
        self.events = events
        self.first_seq = events[0].seq
        self.last_seq = events[-1].seq
        # Whether the last event ends its run; and whether one before it did (a run
        # retried at once after its end).
        self.ends_run = events[-1].ends_run
        self.ended_before_last = any(event.ends_run for event in events[:-1])
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = b"".join(event.frame.wire for event in self.events)
        return self._wire


def event_message(event: PublishedEvent) -> StreamEvent:
    # pydantic's encoder, so timestamps read as they do in GET /runs/{id}/events.
    said = {
        "type": "event",
        "run_id": event.run_id,
        "workflow_id": event.workflow_id,
        "seq": event.seq,
        "event_type": event.event_type,
        "step_id": event.step_id,
        "timestamp": event.created_at,
        "data": event.data,
    }
    frame = Frame(to_json(said).decode(), event.event_type, event.seq, said)
    return StreamEvent(event.workspace_id, event.workflow_id, event.run_id, event.seq, frame)


PING_FRAME = Frame(PING, "ping")
RESYNC_FRAME = Frame(RESYNC, "resync")
