"""The messages of live streams. An event is serialized once, in the hub, and the same
text goes to every subscriber, over WebSocket and Server-Sent Events alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic_core import to_json

if TYPE_CHECKING:
    from towpath.events.bus import PublishedEvent

# The last event of a run; a run stream closes after sending one.
RUN_ENDED = frozenset({"run.completed", "run.failed", "run.cancelled"})
RUN_ENDED_STATUSES = frozenset({"completed", "failed", "cancelled"})

PING = '{"type":"ping"}'
RESYNC = '{"type":"resync"}'


@dataclass(frozen=True, slots=True)
class StreamEvent:
    workspace_id: str
    workflow_id: str
    run_id: str
    seq: int
    event_type: str
    # The message, as sent.
    text: str

    @property
    def ends_run(self) -> bool:
        return self.event_type in RUN_ENDED


def event_message(event: PublishedEvent) -> StreamEvent:
    # pydantic's encoder, so timestamps read as they do in GET /runs/{id}/events.
    text = to_json(
        {
            "type": "event",
            "run_id": event.run_id,
            "workflow_id": event.workflow_id,
            "seq": event.seq,
            "event_type": event.event_type,
            "step_id": event.step_id,
            "timestamp": event.created_at,
            "data": event.data,
        }
    ).decode()
    return StreamEvent(
        event.workspace_id, event.workflow_id, event.run_id, event.seq, event.event_type, text
    )


@dataclass(frozen=True, slots=True)
class Frame:
    """One message for a client: its text, and its name and id for Server-Sent Events."""

    text: str
    name: str
    id: int | None = None

    def sse(self) -> str:
        head = f"id: {self.id}\n" if self.id is not None else ""
        return f"{head}event: {self.name}\ndata: {self.text}\n\n"


@dataclass(frozen=True, slots=True)
class End:
    """The stream is over: close with this code (a WebSocket) or end the response (SSE)."""

    code: int
    reason: str


PING_FRAME = Frame(PING, "ping")
RESYNC_FRAME = Frame(RESYNC, "resync")


def event_frame(event: StreamEvent) -> Frame:
    return Frame(event.text, event.event_type, event.seq)
