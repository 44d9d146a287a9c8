"""Posting an event: in one transaction, answer the `wait_for_event` steps waiting for it
and start a run of every subscribed workflow; an event id makes the post happen once.

The rule for a step that starts waiting while the event is posted: the event answers
every matching step that waits when the post takes its lock on the event's name (see
`engine/event_gate.py`); a step that starts waiting later, runs the post starts among
them, waits for the next event. A step is answered once: its run is locked while the
post looks at it, and only a step still waiting is answered."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.domain.errors import TowpathError, Unprocessable
from towpath.domain.ids import new_id
from towpath.domain.states import StepStatus
from towpath.engine.event_gate import hold_event_name
from towpath.engine.fan_out import item_settled
from towpath.engine.lifecycle import start_run
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.run_io import open_runs
from towpath.engine.sql import execute, fetch
from towpath.engine.subruns import cancel_children, ended_runs
from towpath.services.audit import Origin, RunAction
from towpath.storage import event_triggers as queries
from towpath.triggers.events import subscriber_input

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.results import Applied, Continuation
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction

TRIGGER_TYPE = "event"
# PostgreSQL: how long a post waits for a run's lock while it holds the event's name. A
# transition holding that run may be waiting for the name in turn; the post gives way,
# and tries again.
RUN_LOCK_WAIT = "250ms"
ATTEMPTS = 20
# lock_not_available, deadlock_detected
_GIVE_WAY = frozenset({"55P03", "40P01"})


class EventIdReused(Unprocessable):
    code = "EVENT_ID_REUSED"

    def __init__(self, event_id: str) -> None:
        super().__init__(
            f"event {event_id!r} was posted before with another name, key or data",
            details={"id": event_id},
        )


@dataclass(frozen=True)
class PostedEvent:
    name: str
    key: str | None
    data: dict[str, Any]
    # The sender's id of the event: the same id posted again answers the first post.
    event_id: str | None = None

    def fingerprint(self) -> str:
        doc = json.dumps([self.name, self.key, self.data], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(doc.encode()).hexdigest()


@dataclass
class EventAnswer:
    event_id: str | None
    # Runs whose waiting step this event answered.
    resumed: list[str] = field(default_factory=list)
    # {"trigger_id", "run_id", "workflow_id"} for each subscriber's new run.
    started: list[dict[str, str]] = field(default_factory=list)
    # {"trigger_id", "error_code", "message"} for each subscriber that could not start.
    refused: list[dict[str, str]] = field(default_factory=list)

    def doc(self) -> dict[str, Any]:
        return {"resumed": self.resumed, "started": self.started, "refused": self.refused}

    @classmethod
    def of(cls, event_id: str, doc: dict[str, Any]) -> EventAnswer:
        return cls(event_id, doc["resumed"], doc["started"], doc["refused"])


async def post(runtime: Runtime, caller: Principal, event: PostedEvent) -> EventAnswer:
    # Read in the request's task: on SQLite the transaction runs on another thread.
    origin = Origin()
    for attempt in range(ATTEMPTS):
        continuation = runtime.continuation()
        try:
            answer, applied = await runtime.driver.run(
                partial(_post, runtime, caller, event, continuation, origin)
            )
        except runtime.driver.errors as exc:
            if getattr(exc, "sqlstate", None) not in _GIVE_WAY or attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.01 * (attempt + 1))
            continue
        if applied is not None:
            await _committed(runtime, caller, applied)
        return answer
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


async def _committed(runtime: Runtime, caller: Principal, applied: Applied) -> None:
    runtime.committed(applied)
    ended = ended_runs(applied.changed)
    if not ended:
        return
    cascade = RunAction(caller, "run.cancel")

    def audit_child(child: RunTransaction, before: str) -> Gen[None]:
        yield from cascade.cascaded(child).record(child, before)

    runtime.announce(await cancel_children(runtime.driver, ended, audit_child))


def _post(
    runtime: Runtime,
    caller: Principal,
    event: PostedEvent,
    continuation: Continuation | None,
    origin: Origin,
) -> Gen[tuple[EventAnswer, Applied | None]]:
    d = runtime.driver.dialect
    workspace_id = caller.workspace_id
    if event.event_id is not None:
        earlier = yield from _claim(
            d, workspace_id, event.event_id, event.name, event.fingerprint()
        )
        if earlier is not None:
            return earlier, None
    yield from hold_event_name(d, workspace_id, event.name, alone=True)
    if d.is_postgres:
        yield from execute(f"SET LOCAL lock_timeout = '{RUN_LOCK_WAIT}'")
    answer = EventAnswer(event.event_id)
    resumed = yield from _resume_waiting(runtime, caller, event)
    started = yield from _start_subscribers(runtime, caller, event, answer)
    resumed_runs = [rt for rt, _ in resumed]
    applied = yield from runtime.carry_on([*resumed_runs, *started], continuation)
    for rt, before in resumed:
        answer.resumed.append(rt.run.id)
        details = {"event": event.name, "key": event.key, "event_id": event.event_id}
        yield from RunAction(caller, "run.event", details, origin).record(rt, before)
    for rt, trigger_id in zip(started, [s["trigger_id"] for s in answer.started], strict=True):
        details = {"trigger_id": trigger_id, "event": event.name}
        yield from RunAction(caller, "run.start", details, origin).record(rt, None)
    if event.event_id is not None:
        yield from execute(queries.ANSWER_POSTED, d.doc(answer.doc()), workspace_id, event.event_id)
    return answer, applied


def _claim(
    d: Dialect, workspace_id: str, event_id: str, name: str, fingerprint: str
) -> Gen[EventAnswer | None]:
    """The answer of this id's earlier post, or None once this post holds the id."""
    now = utcnow()
    for _ in range(2):
        rows = yield from fetch(queries.POSTED, workspace_id, event_id)
        if rows:
            if rows[0][0] != fingerprint:
                raise EventIdReused(event_id)
            return EventAnswer.of(event_id, d.read_doc(rows[0][1]))
        claimed = yield from execute(
            queries.CLAIM_POSTED,
            new_id(),
            workspace_id,
            event_id,
            name,
            fingerprint,
            d.time(now),
        )
        if claimed:
            return None
    raise AssertionError("an id claimed by another post has no row")  # pragma: no cover


def _resume_waiting(
    runtime: Runtime, caller: Principal, event: PostedEvent
) -> Gen[list[tuple[RunTransaction, str]]]:
    """Answer the steps that wait for this name and key, each run locked and looked at
    again: a step another post answered meanwhile is no longer waiting."""
    d = runtime.driver.dialect
    rows = yield from fetch(queries.WAITING_STEPS, caller.workspace_id)
    by_run: dict[str, list[tuple[str, int]]] = {}
    for run_id, step_id, item_index, state in rows:
        wanted = d.read_doc(state)
        if isinstance(wanted, dict) and (wanted.get("event_name"), wanted.get("key")) == (
            event.name,
            event.key,
        ):
            by_run.setdefault(run_id, []).append((step_id, item_index))
    opened = yield from open_runs(d, by_run, caller.workspace_id)
    resumed = []
    for run_id, rt in sorted(opened.items()):
        before = rt.run.status
        took = False
        for step_id, item_index in by_run[run_id]:
            current = rt.step(step_id, item_index)
            if current is None or current.status != StepStatus.WAITING:
                continue
            rt.emit("event.received", step_id, name=event.name, key=event.key)
            rt.complete_step(current, {"name": event.name, "key": event.key, "data": event.data})
            if item_index != WHOLE_STEP:
                yield from item_settled(rt, current)
            took = True
        if took:
            prepared = yield from runtime.workflows.get(d, rt.run.workflow_id)
            rt.advance(prepared.graph)
            resumed.append((rt, before))
    return resumed


def _start_subscribers(
    runtime: Runtime, caller: Principal, event: PostedEvent, answer: EventAnswer
) -> Gen[list[RunTransaction]]:
    """A new run of each subscriber whose filter lets the event through; a subscriber
    that cannot start (no published version, input refused) is named in the
    answer and stops no other."""
    d = runtime.driver.dialect
    workflows = runtime.workflows
    context = {"name": event.name, "key": event.key, "data": event.data}
    rows = yield from fetch(queries.SUBSCRIBERS, caller.workspace_id, event.name)
    started = []
    for trigger_id, workflow_id, pinned, filter_expression, template in rows:
        try:
            run_input = subscriber_input(filter_expression, d.read_doc(template), context)
            if run_input is None:
                continue
            if pinned:
                workflow = yield from workflows.get(d, workflow_id, caller.workspace_id)
            else:
                workflow = yield from workflows.latest(d, workflow_id, caller.workspace_id)
            # Every check comes before the run is written, with the others, by carry_on.
            rt = yield from start_run(
                d,
                workflow,
                run_input,
                workflows.limits,
                trigger_type=TRIGGER_TYPE,
                trigger_id=trigger_id,
                created_by=caller.subject,
                write=False,
            )
        except TowpathError as exc:
            refused = {"trigger_id": trigger_id, "error_code": exc.code, "message": exc.message}
            answer.refused.append(refused)
            continue
        started.append(rt)
        answer.started.append(
            {"trigger_id": trigger_id, "run_id": rt.run.id, "workflow_id": rt.run.workflow_id}
        )
    return started
