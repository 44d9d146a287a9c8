"""Document 004's events, told from towpath's own: each committed run event of a task's
run becomes the document's events it amounts to."""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict, deque
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from towpath.domain.errors import InvalidRequest
from towpath.engine.step_records import STEP_EMITTED
from towpath.events.feeds import Feed, RunFeed
from towpath.events.messages import Frame
from towpath.storage import runs
from towpath.storage.tasks import steps_done, task_of_workflow

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.datastructures import State
    from starlette.websockets import WebSocket

    from towpath.events.messages import Batch, End
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
# How long whether a workflow is a task's is taken as read: a task may be made over an
# existing workflow's lineage at any time.
WORKFLOW_SECONDS = 5.0
WORKFLOWS_KEPT = 10_000


class TaskTeller:
    """What task runs' events amount to in the document's words, worked out once per
    event for every socket that tells it (the frame keeps it), with what it reads of each
    workflow kept a few seconds for every socket of the process."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._workflows: OrderedDict[str, tuple[float, str | None, int]] = OrderedDict()
        # Workflows read again in the background, each at most once at a time.
        self._reading: dict[str, asyncio.Task[tuple[str | None, int]]] = {}

    def known(self, frame: Frame) -> list[Frame] | None:
        """What the event amounts to, if that is known without reading anything: nothing
        for a run of a workflow known to be no task's (most runs, so most events cost
        no wait); else None, and `told` works it out. What was read of a workflow longer
        ago than WORKFLOW_SECONDS still answers while it is read again: every stream of
        the run would otherwise wait for that read, its task woken for it."""
        event = frame.event
        if event is None:
            return None
        workflow_id = event["workflow_id"]
        known = self._workflows.get(workflow_id)
        if known is None or known[1] is not None:
            return None
        if not _fresh(known):
            self._read_again(workflow_id)
        return []

    def warm(self, workflow_id: str) -> None:
        """Reads whether the workflow is a task's, unless that is known: a stream that
        opens on one of its runs is told its first events without waiting for it."""
        known = self._workflows.get(workflow_id)
        if known is None or not _fresh(known):
            self._read_again(workflow_id)

    def _read_again(self, workflow_id: str) -> None:
        if workflow_id in self._reading:
            return
        task = asyncio.get_running_loop().create_task(self._task_of(workflow_id))
        self._reading[workflow_id] = task
        task.add_done_callback(lambda done: self._reading.pop(workflow_id, None))
        # Read again on the next event, if this read fails.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def tells_nothing(self, batch: Batch) -> bool:
        """None of the events amounts to anything in the document's words, known so
        without reading anything."""
        return all(self.known(event.frame) == [] for event in batch.events)

    def told(self, frame: Frame) -> asyncio.Task[list[Frame]]:
        return frame.derived(MESSAGE_TYPE, self._telling)

    def _telling(self, frame: Frame) -> asyncio.Task[list[Frame]]:
        event = frame.event if frame.event is not None else json.loads(frame.text)
        task = asyncio.get_running_loop().create_task(self._told(event))
        # Every socket that waited for it may have gone: its failure is theirs to see.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    async def _told(self, event: dict[str, Any]) -> list[Frame]:
        task_id, nodes = await self._task_of(event["workflow_id"])
        if task_id is None:
            return []
        return [
            _frame(name, task_id, event, data) for name, data in await self._meaning(event, nodes)
        ]

    async def _task_of(self, workflow_id: str) -> tuple[str | None, int]:
        now = time.monotonic()
        known = self._workflows.get(workflow_id)
        if known is not None and _fresh(known):
            return known[1], known[2]
        async with self.db.read() as session:
            task_id, nodes = await task_of_workflow(session, workflow_id)
        self._workflows[workflow_id] = (now, task_id, nodes)
        self._workflows.move_to_end(workflow_id)
        if len(self._workflows) > WORKFLOWS_KEPT:
            self._workflows.popitem(last=False)
        return task_id, nodes

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


class TaskEvents(Feed):
    """Another feed's frames, each event of a task's run followed by the document's events
    it amounts to; with `only_tasks`, the document's events (and pings) alone."""

    def __init__(self, inner: Feed, teller: TaskTeller, *, only_tasks: bool) -> None:
        # Not Feed.__init__: the inner feed holds the subscription and its timing.
        self.inner = inner
        self.hub = inner.hub
        self.sub = inner.sub
        self.teller = teller
        self.only_tasks = only_tasks
        self._pending: deque[Frame] = deque()

    @property
    def finished(self) -> bool:
        return bool(getattr(self.inner, "finished", False))

    def ready(self) -> bool:
        # Filtered, what the inner feed holds may all be left out: only what is told counts.
        return bool(self._pending) or (not self.only_tasks and self.inner.ready())

    def close(self) -> None:
        self.inner.close()

    def write_directly(self, write_now: Callable[[bytes], bool]) -> None:
        self.inner.write_directly(write_now)
        if self.sub.direct is not None:
            self.sub.direct = self.deliver

    def deliver(self, batch: Batch) -> bool:
        # Events that tell the document nothing (any run's but a task's, once its
        # workflow is known) go out as they are, now; the others are told by `next`.
        return (
            not self.only_tasks
            and not self._pending
            and batch.derived(MESSAGE_TYPE, self.teller.tells_nothing)
            and self.inner.deliver(batch)
        )

    async def resync(self) -> End | None:
        return await self.inner.resync()

    async def next(self) -> Frame | End:
        while True:
            if self._pending:
                return self._pending.popleft()
            item = await self.inner.next()
            if not isinstance(item, Frame) or item.event is None:
                # A ping, a snapshot, a resync: not an event.
                if self.only_tasks and isinstance(item, Frame) and item.name != "ping":
                    continue
                return item
            told = self.teller.known(item)
            if told is None:
                told = await asyncio.shield(self.teller.told(item))
            self._pending.extend(told)
            if not self.only_tasks:
                return item


def _fresh(known: tuple[float, str | None, int]) -> bool:
    """Whether what was read of a workflow (when, its task, its size) is still taken as read."""
    return time.monotonic() - known[0] < WORKFLOW_SECONDS


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


CHOICES = ("tasks", "towpath")


def task_events(websocket: WebSocket, feed: Feed) -> Feed:
    """A run or workspace stream's feed as the client asked (see SELECTOR)."""
    chosen = websocket.query_params.get(SELECTOR)
    if chosen is not None and chosen not in CHOICES:
        feed.close()
        raise InvalidRequest(
            f"{SELECTOR} must be one of {', '.join(CHOICES)}", details={SELECTOR: chosen}
        )
    if chosen == "towpath":
        return feed
    teller = teller_of(websocket.app.state)
    if isinstance(feed, RunFeed) and feed.workflow_id is not None:
        teller.warm(feed.workflow_id)
    return TaskEvents(feed, teller, only_tasks=chosen == "tasks")


def teller_of(state: State) -> TaskTeller:
    """The process's teller, made on first use (the database is the app's from its start)."""
    teller: TaskTeller | None = getattr(state, "task_teller", None)
    if teller is None:
        teller = state.task_teller = TaskTeller(state.db)
    return teller
