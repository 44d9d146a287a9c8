"""Document 004's events, told from towpath's own: each committed run event of a task's
run becomes the document's events it amounts to."""

from __future__ import annotations

import json
from collections import deque
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from towpath.engine.step_records import STEP_EMITTED
from towpath.events.feeds import Feed
from towpath.events.messages import Frame
from towpath.storage import runs
from towpath.storage.tasks import steps_done, task_of_workflow

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from towpath.events.messages import End
    from towpath.storage.database import Database

# A towpath event -> the document's event of the same moment.
SAME_MOMENT = {
    "run.started": "analysis_start",
    "approval.approved": "approved",
    "approval.rejected": "rejected",
    "run.completed": "completion",
    "run.failed": "failure",
    "run.cancelled": "cancelled",
}
# The `type` of the document's messages, beside its `event_type`.
MESSAGE_TYPE = "task_event"


class TaskEvents(Feed):
    """Another feed's frames, each event of a task's run followed by the document's events
    it amounts to; with `only_tasks`, the document's events (and pings) alone."""

    def __init__(self, inner: Feed, db: Database, *, only_tasks: bool) -> None:
        # Not Feed.__init__: the inner feed holds the subscription and its timing.
        self.inner = inner
        self.hub = inner.hub
        self.sub = inner.sub
        self.db = db
        self.only_tasks = only_tasks
        self._pending: deque[Frame] = deque()
        self._workflows: dict[str, tuple[str | None, int]] = {}

    @property
    def finished(self) -> bool:
        return bool(getattr(self.inner, "finished", False))

    def ready(self) -> bool:
        # Filtered, what the inner feed holds may all be left out: only what is told counts.
        return bool(self._pending) or (not self.only_tasks and self.inner.ready())

    def close(self) -> None:
        self.inner.close()

    async def resync(self) -> End | None:
        return await self.inner.resync()

    async def next(self) -> Frame | End:
        while True:
            if self._pending:
                return self._pending.popleft()
            item = await self.inner.next()
            if not isinstance(item, Frame) or item.name == "ping":
                return item
            message = json.loads(item.text)
            if message.get("type") == "event":
                self._pending.extend(await self._told(message))
            if not self.only_tasks:
                return item

    async def _told(self, event: dict[str, Any]) -> list[Frame]:
        workflow_id = event["workflow_id"]
        if workflow_id not in self._workflows:
            async with self.db.read() as session:
                self._workflows[workflow_id] = await task_of_workflow(session, workflow_id)
        task_id, nodes = self._workflows[workflow_id]
        if task_id is None:
            return []
        return [
            _frame(name, task_id, event, data) for name, data in await self._meaning(event, nodes)
        ]

    async def _meaning(self, event: dict[str, Any], nodes: int) -> list[tuple[str, Any]]:
        kind, data, run_id = event["event_type"], event.get("data") or {}, event["run_id"]
        if kind in SAME_MOMENT:
            return [(SAME_MOMENT[kind], _data_of(kind, data))]
        if kind == "approval.requested":
            async with self.db.read() as session:
                context = await runs.outputs(session, run_id)
            plan = context.get("plan")
            text = plan.get("text") if isinstance(plan, dict) else data.get("message")
            asked = {"message": data.get("message"), "deadline_at": data.get("deadline_at")}
            return [("plan_ready", {"plan": text}), ("approval_required", asked)]
        if kind == "step.completed" and data.get("item_index") is None:
            async with self.db.read() as session:
                done = await steps_done(session, run_id)
            percentage = min(100, round(100 * done / nodes)) if nodes else 100
            return [("progress", {"percentage": percentage, "step_id": event.get("step_id")})]
        if kind == STEP_EMITTED and isinstance(data.get("name"), str):
            return [(data["name"], data.get("data") or {})]
        return []


def _data_of(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind in ("approval.approved", "approval.rejected"):
        return {"feedback": data.get("comment"), "by": data.get("decided_by")}
    if kind == "run.failed":
        return {"error": data.get("error")}
    if kind == "run.cancelled":
        return {"reason": data.get("error")}
    return {}


def _frame(name: str, task_id: str, event: dict[str, Any], data: Any) -> Frame:
    text = to_json(
        {
            "type": MESSAGE_TYPE,
            "event_type": name,
            "task_id": task_id,
            "run_id": event["run_id"],
            "timestamp": event["timestamp"],
            "data": data,
        }
    ).decode()
    return Frame(text, name)


# `/ws/runs/{id}` and `/ws/stream` are towpath's own streams' paths too. A client of the
# document connects as it was written, with no query: it gets the document's events of task
# runs beside towpath's own messages (of another `type`, which it passes over), so it works
# unchanged. `?events=tasks` keeps the document's alone, `?events=towpath` towpath's alone.
SELECTOR = "events"


def task_events(websocket: WebSocket, feed: Feed) -> Feed:
    """A run or workspace stream's feed as the client asked (see SELECTOR)."""
    chosen = websocket.query_params.get(SELECTOR)
    if chosen == "towpath":
        return feed
    return TaskEvents(feed, websocket.app.state.db, only_tasks=chosen == "tasks")
