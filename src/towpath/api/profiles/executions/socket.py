"""`WS /api/v1/ws/executions/{id}`: a run's stream, told as the document's `ExecutionEvent`s.

It is towpath's run stream (`/ws/runs/{id}`): the same credentials, hub, ordering, resume
with `?after=` and close codes; only each message is said in the document's words."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from fastapi import APIRouter, WebSocket

from towpath.api.profiles.executions.schemas import ExecutionEvent, execution_response

# The run stream's own reading of `?after=`, so both refuse the same cursors (4400).
from towpath.api.routes.streams import _after, serve_socket
from towpath.domain.clock import utcnow
from towpath.events.feeds import Feed
from towpath.events.messages import Frame
from towpath.services.run_views import view_of

if TYPE_CHECKING:
    from towpath.api.socket_auth import SocketCaller
    from towpath.events.feeds import RunFeed
    from towpath.events.messages import End
    from towpath.events.streams import Streams
    from towpath.storage.streams import RunSnapshot

socket_router = APIRouter()

# towpath's event types the document has a name for; any other is told with `_` for `.`.
EVENT_NAMES: Final = {
    "run.started": "execution_started",
    "run.completed": "execution_completed",
    "run.failed": "execution_failed",
    "run.cancelled": "execution_cancelled",
    "run.paused": "execution_paused",
    "run.unpaused": "execution_resumed",
    "step.started": "step_started",
    "step.completed": "step_completed",
    "step.failed": "step_failed",
    "approval.requested": "waiting_acceptance",
    "approval.approved": "acceptance_accepted",
    "approval.rejected": "acceptance_rejected",
    "clarification.requested": "waiting_clarification",
    "clarification.answered": "clarification_submitted",
}


@socket_router.websocket("/api/v1/ws/executions/{execution_id}")
async def watch_execution(websocket: WebSocket, execution_id: str) -> None:
    async def execution_feed(streams: Streams, caller: SocketCaller) -> Feed:
        after = _after(websocket.query_params.get("after"))
        who = caller.principal
        feed = await streams.run_feed(
            execution_id, who.workspace_id, after, _status_text, caller.expires_at, who
        )
        return ExecutionFeed(feed)

    await serve_socket(websocket, execution_feed)


class ExecutionFeed(Feed):
    """A run's feed whose every frame is said as an `ExecutionEvent`, one for one."""

    def __init__(self, inner: RunFeed) -> None:
        super().__init__(inner.hub, inner.sub, inner.heartbeat, None)
        self.inner = inner

    async def next(self) -> Frame | End:
        item = await self.inner.next()
        return _translated(item, self.inner.run_id) if isinstance(item, Frame) else item

    def ready(self) -> bool:
        return self.inner.ready()

    async def resync(self) -> End | None:
        return await self.inner.resync()

    def close(self) -> None:
        self.inner.close()


def event_name(event_type: str) -> str:
    return EVENT_NAMES.get(event_type) or event_type.replace(".", "_")


def _status_text(snapshot: RunSnapshot) -> str:
    """The first message: the execution as `GET /executions/{id}` answers it."""
    run = snapshot.run
    execution = execution_response(view_of(run, snapshot.steps, snapshot.nodes))
    return _text(
        "execution_status", None, run.updated_at, execution.model_dump(mode="json"), run.id
    )


def _translated(frame: Frame, run_id: str) -> Frame:
    if frame.name == "snapshot":
        return frame
    if frame.id is None:
        # A ping, or a resync (a fresh execution_status follows it).
        name = "heartbeat" if frame.name == "ping" else frame.name
        return Frame(_text(name, None, utcnow(), {}, run_id), name)
    return frame.derived("executions", _execution_event)


def _execution_event(frame: Frame) -> Frame:
    """An event's frame in the document's words: made once per event, for every client."""
    event = frame.event if frame.event is not None else json.loads(frame.text)
    name = event_name(event["event_type"])
    text = _text(
        name, event["step_id"], event["timestamp"], event["data"], event["run_id"], frame.id
    )
    return Frame(text, name, frame.id)


def _text(
    name: str,
    step_id: str | None,
    at: Any,
    data: dict[str, Any],
    run_id: str,
    seq: int | None = None,
) -> str:
    event = ExecutionEvent(
        event_type=name, step_id=step_id, timestamp=at, data=data, execution_id=run_id, seq=seq
    )
    return event.model_dump_json()
