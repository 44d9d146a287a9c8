"""Flow control: whether a new run starts now, waits its turn (pending, with the reason),
or is cancelled; and which waiting runs start when a slot frees or a window opens.

A workflow's `concurrency` counts its runs holding a slot (running or waiting, every
version of it) per rendered key; its `rate_limit` counts the starts of the last window;
a paused workflow starts none. Only a start or an end of a run of a flow-controlled
workflow reads these counts: other runs carry no concurrency key and cost nothing more.

Every decision holds the lineage's lock (PostgreSQL: a transaction-level advisory lock;
SQLite: its one writer), so two starts, or a start and the end that frees a slot, never
both take the last slot, and a slot that frees is handed on in the transaction that
frees it. Under the lock nothing waits for a run's row: the runs it takes are taken
with SKIP LOCKED, so no transition that holds a run and wants the lock can deadlock it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.domain.errors import Conflict, Unprocessable
from towpath.domain.states import RUN_TERMINAL, EventType, RunStatus
from towpath.domain.templates import TemplateError, render_value
from towpath.engine.graphs import WorkflowCache
from towpath.engine.sql import execute, fetch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from towpath.domain.definition import FlowControl
    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction

    Opener = Callable[[Dialect, Iterable[str]], Gen[dict[str, RunTransaction]]]
    Flusher = Callable[[Dialect, Iterable[RunTransaction]], Gen[None]]

CONCURRENCY = "concurrency"
RATE_LIMIT = "rate_limit"
WORKFLOW_PAUSED = "workflow_paused"
# How many waiting runs of one key one decision looks at.
_BATCH = 100
_KEY_CHARS = 500
# A paused run keeps its slot: it goes on once unpaused.
_HOLDING = "status IN ('running', 'waiting', 'paused')"
_ENDS = frozenset({EventType.RUN_COMPLETED, EventType.RUN_FAILED, EventType.RUN_CANCELLED})

# The waiting runs' workflows, to start them: a published version never changes, so
# one cache serves every caller of this process.
_prepared = WorkflowCache(size=64)


class ConcurrencyKeyInvalid(Unprocessable):
    code = "CONCURRENCY_KEY_INVALID"

    def __init__(self, template: str, problem: str) -> None:
        super().__init__(
            f"the workflow's concurrency key {template!r} does not render for this input:"
            f" {problem}",
            details={"key": template, "problem": problem},
        )


class ConcurrencyFull(Conflict):
    code = "CONCURRENCY_LIMIT_REACHED"

    def __init__(self, key: str, limit: int, on_full: str = "cancel_newest") -> None:
        super().__init__(
            f"{limit} run(s) of concurrency key {key!r} are running, the workflow's limit"
            f" (on_full: {on_full})",
            details={"key": key, "limit": limit, "on_full": on_full},
        )


def concurrency_key(flow: FlowControl, run_input: dict[str, Any]) -> str | None:
    """The key a run of a flow-controlled workflow counts under ("" when the workflow has
    no key template); None for a workflow without limits."""
    if not flow.limited:
        return None
    template = flow.concurrency.key if flow.concurrency is not None else None
    if template is None:
        return ""
    try:
        value = render_value(template, {"input": run_input})
    except TemplateError as exc:
        raise ConcurrencyKeyInvalid(template, str(exc)) from exc
    key = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(key) > _KEY_CHARS:
        raise ConcurrencyKeyInvalid(template, f"the key is longer than {_KEY_CHARS} characters")
    return key


def waiting_for(run: Any) -> dict[str, Any] | None:
    """What a pending run waits for, as its response says it; None once it started."""
    reason = getattr(run, "queued_for", None)
    if run.status != RunStatus.PENDING or reason is None:
        return None
    found: dict[str, Any] = {"reason": reason}
    if reason == CONCURRENCY:
        found["key"] = run.concurrency_key
    return found


def _hold(d: Dialect, lineage_id: str) -> Gen[None]:
    if d.is_postgres:
        yield from fetch("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", lineage_id)


def _same_key(key: str | None) -> str:
    if key is None:
        return "concurrency_key IS NULL"
    return "concurrency_key = ?"


def _key_params(key: str | None) -> tuple[Any, ...]:
    return () if key is None else (key,)


def _room(
    d: Dialect, flow: FlowControl, lineage_id: str, key: str | None, now: datetime, wanted: int
) -> Gen[tuple[int, str | None]]:
    """How many more runs of this key may start now (at most `wanted`), and what stops
    the rest."""
    room, reason = wanted, None
    limit = flow.concurrency.limit if flow.concurrency is not None else None
    rate = flow.rate_limit
    if limit is None and rate is None:
        return room, reason
    rows = yield from fetch(
        "SELECT (SELECT count(*) FROM runs WHERE lineage_id = ? AND concurrency_key = ?"
        f" AND {_HOLDING}),"
        " (SELECT count(*) FROM (SELECT 1 FROM runs WHERE lineage_id = ?"
        " AND concurrency_key IS NOT NULL AND started_at > ? LIMIT ?) AS started)",
        lineage_id,
        key or "",
        lineage_id,
        d.time(now - timedelta(seconds=rate.per_seconds if rate else 0)),
        rate.runs if rate else 0,
    )
    holding, started = rows[0]
    if limit is not None and limit - holding < room:
        room, reason = max(limit - holding, 0), CONCURRENCY
    if rate is not None and rate.runs - started < room:
        room, reason = max(rate.runs - started, 0), RATE_LIMIT
    return room, reason


def _queue(rt: RunTransaction, reason: str) -> None:
    rt.run.queued_for = reason
    # Its time runs from its start, not while it waits for one.
    rt.run.deadline_at = None
    data: dict[str, Any] = {"reason": reason}
    if reason == CONCURRENCY:
        data["key"] = rt.run.concurrency_key
    rt.emit(EventType.RUN_QUEUED, **data)


def admit_new_run(
    d: Dialect,
    rt: RunTransaction,
    workflow: PreparedWorkflow,
    paused: bool,
    opener: Opener,
    flusher: Flusher,
    *,
    child: bool = False,
) -> Gen[bool]:
    """Whether the new run starts now; otherwise it is left queued or cancelled, with the
    reason. `on_full: cancel_oldest` cancels the oldest runs of its key (those no worker
    holds this moment) to make room. A `child` run (a sub_workflow step's) that
    `cancel_newest` would cancel is refused instead: the step fails, saying why."""
    run = rt.run
    lineage_id = workflow.lineage_id
    flow = workflow.flow
    if paused:
        # Read again under the row's lock: an unpause committing meanwhile is seen, so a
        # run cannot queue behind a pause that just ended.
        rows = yield from fetch(
            f"SELECT paused FROM workflows WHERE id = ? {d.lock('FOR SHARE')}", lineage_id
        )
        if rows and rows[0][0]:
            _queue(rt, WORKFLOW_PAUSED)
            return False
    if not flow.limited:
        return True
    yield from _hold(d, lineage_id)
    key = run.concurrency_key
    # Runs that waited before it go first (those that may start now start here).
    rt.followers += yield from admit_waiting(d, lineage_id, key, opener, flusher)
    queued = yield from fetch(
        f"SELECT 1 FROM runs WHERE lineage_id = ? AND {_same_key(key)} AND status = 'pending'"
        " LIMIT 1",
        lineage_id,
        *_key_params(key),
    )
    room, reason = yield from _room(d, flow, lineage_id, key, rt.now, 1)
    if room and not queued:
        return True
    if reason != CONCURRENCY or flow.concurrency is None or flow.concurrency.on_full == "queue":
        _queue(rt, reason or CONCURRENCY)
        return False
    limit = flow.concurrency.limit
    if flow.concurrency.on_full == "cancel_newest":
        if child:
            raise ConcurrencyFull(key or "", limit)
        rt.set_run_status(
            RunStatus.CANCELLED,
            error=f"cancelled at its start: {limit} run(s) of concurrency key {key!r} are"
            " running (on_full: cancel_newest)",
        )
        return False
    made_room = yield from _cancel_oldest(d, rt, lineage_id, limit, opener, flusher)
    if not made_room:
        # Every run of the key is in a worker's hands this moment: this one waits.
        _queue(rt, CONCURRENCY)
    return made_room


def admit_retry(rt: RunTransaction, workflow: PreparedWorkflow) -> Gen[None]:
    """A retried run takes its slot again: while every slot of its key is held the retry
    is refused (409), changing nothing, rather than run past the limit. A retry is not a
    start, so the rate limit does not count it."""
    concurrency = workflow.flow.concurrency
    key = rt.run.concurrency_key
    if concurrency is None or key is None:
        return
    yield from _hold(rt.d, workflow.lineage_id)
    rows = yield from fetch(
        f"SELECT count(*) FROM runs WHERE lineage_id = ? AND concurrency_key = ? AND {_HOLDING}"
        " AND id <> ?",
        workflow.lineage_id,
        key,
        rt.run.id,
    )
    if rows[0][0] >= concurrency.limit:
        raise ConcurrencyFull(key, concurrency.limit, concurrency.on_full)


def _cancel_oldest(
    d: Dialect, rt: RunTransaction, lineage_id: str, limit: int, opener: Opener, flusher: Flusher
) -> Gen[bool]:
    key = rt.run.concurrency_key or ""
    # Only runs no parent waits for are cancelled to make room: a sub_workflow step's run
    # ended under it would leave the step waiting for nothing.
    holding = yield from fetch(
        f"SELECT id, parent_run_id FROM runs WHERE lineage_id = ? AND concurrency_key = ?"
        f" AND {_HOLDING} ORDER BY started_at, id",
        lineage_id,
        key,
    )
    excess = len(holding) - limit + 1
    if excess <= 0:
        return True
    oldest = [row[0] for row in holding if row[1] is None][:excess]
    if len(oldest) < excess:
        return False
    free = yield from fetch(
        f"SELECT id FROM runs WHERE {d.any_of('id')} {d.lock('FOR UPDATE SKIP LOCKED')}",
        d.ids(oldest),
    )
    if len(free) < excess:
        return False
    opened = yield from opener(d, oldest)
    reason = f"cancelled for a newer run of concurrency key {key!r} (on_full: cancel_oldest)"
    cancelled = []
    for old in opened.values():
        if old.run.status in RUN_TERMINAL:
            continue
        old.cancel_active_steps()
        old.set_run_status(RunStatus.CANCELLED, error=reason)
        cancelled.append(old)
    yield from flusher(d, cancelled)
    rt.followers += cancelled
    return len(cancelled) == excess


def freed_slot(rt: RunTransaction, unwritten: int) -> bool:
    """Whether the run, of a flow-controlled workflow, ended among its unwritten events."""
    return (
        rt.run.concurrency_key is not None
        and rt.run.status in RUN_TERMINAL
        and any(event.event_type in _ENDS for event in rt.events[unwritten:])
    )


def release_slots(
    d: Dialect, ended: list[RunTransaction], opener: Opener, flusher: Flusher
) -> Gen[None]:
    """Start the runs waiting for the slots these runs' ends freed, in the same
    transaction; each ended run carries the runs it let start as its followers."""
    # One run per key, taken in one order by every transaction: no two wait for each
    # other's lineage lock.
    by_key = {(rt.run.lineage_id or "", rt.run.concurrency_key or ""): rt for rt in ended}
    for lineage_id, key in sorted(by_key):
        started = yield from admit_waiting(d, lineage_id, key, opener, flusher)
        by_key[lineage_id, key].followers += started


def admit_waiting(
    d: Dialect, lineage_id: str, key: str | None, opener: Opener, flusher: Flusher
) -> Gen[list[RunTransaction]]:
    """Start as many of the key's waiting runs as may start now, highest priority first,
    then oldest; the others keep waiting, with the reason as it stands now."""
    yield from _hold(d, lineage_id)
    candidates = yield from fetch(
        f"SELECT id, workflow_id, queued_for FROM runs WHERE lineage_id = ?"
        f" AND {_same_key(key)} AND status = 'pending' AND queued_for IS NOT NULL"
        f" ORDER BY priority DESC, created_at, id LIMIT ? {d.lock('FOR UPDATE SKIP LOCKED')}",
        lineage_id,
        *_key_params(key),
        _BATCH,
    )
    if not candidates:
        return []
    paused = yield from fetch("SELECT paused FROM workflows WHERE id = ?", lineage_id)
    # One version's settings say how many may run: those of the last run in line.
    workflow = yield from _prepared.get(d, candidates[-1][1])
    reason: str | None = WORKFLOW_PAUSED
    room = 0
    if not (paused and paused[0][0]):
        wanted = len(candidates)
        room, reason = yield from _room(d, workflow.flow, lineage_id, key, utcnow(), wanted)
    opened = yield from opener(d, [row[0] for row in candidates[:room]])
    started = []
    for rt in opened.values():
        if rt.run.status != RunStatus.PENDING:
            continue
        prepared = yield from _prepared.get(d, rt.run.workflow_id)
        if prepared.timeout_seconds is not None:
            rt.run.deadline_at = rt.now + timedelta(seconds=prepared.timeout_seconds)
        rt.set_run_status(RunStatus.RUNNING, event=EventType.RUN_STARTED)
        rt.advance(prepared.graph)
        started.append(rt)
    yield from flusher(d, started)
    still = [row[0] for row in candidates[room:] if row[2] != reason]
    if still and reason is not None:
        yield from execute(
            f"UPDATE runs SET queued_for = ? WHERE {d.any_of('id')}", reason, d.ids(still)
        )
    return started


def admit_due(d: Dialect, opener: Opener, flusher: Flusher) -> Gen[list[RunTransaction]]:
    """Runs waiting for a window of their rate limit, or for their workflow's unpause:
    the worker's timer looks at them every poll."""
    groups = yield from fetch(
        "SELECT DISTINCT lineage_id, concurrency_key FROM runs WHERE status = 'pending'"
        f" AND queued_for IN ('{RATE_LIMIT}', '{WORKFLOW_PAUSED}') LIMIT 50"
    )
    started: list[RunTransaction] = []
    for lineage_id, key in sorted(groups, key=lambda g: (g[0], g[1] or "")):
        started += yield from admit_waiting(d, lineage_id, key, opener, flusher)
    return started
