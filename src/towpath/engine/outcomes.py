"""Writing what a step's execution came to: complete, retry, fail, wait or park it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.ids import new_id
from towpath.domain.states import STEP_TERMINAL
from towpath.engine.claim import lease_steps
from towpath.engine.fan_out import fan_out, item_settled, kept_state
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.sql import execute_many
from towpath.engine.subruns import settle_parents, start_child
from towpath.engine.transition import RunCache, RunTransaction, flush_runs, open_runs
from towpath.steps.execution import Completed, Deferred, Failed, FanOut, Waiting

if TYPE_CHECKING:
    import random
    from collections.abc import Callable
    from datetime import datetime

    from towpath.engine.execute import Result
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.rows import StepRow
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.work import Work
    from towpath.steps.common import RetryPolicy

# What a step waits for becomes its own event, for the people who answer it.
WAIT_EVENTS = {"approval": "approval.requested", "clarification": "clarification.requested"}


def backoff(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Exponential from `backoff_seconds`, capped, with full jitter on the upper half."""
    ceiling = min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** (attempt - 1))
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def should_retry(result: Result, failed: Failed) -> bool:
    policy = result.retry
    if not failed.retryable or result.work.attempt >= policy.max_attempts:
        return False
    return policy.retry_on is None or failed.kind in policy.retry_on


@dataclass
class Applied:
    """What a batch of results changed, and the steps it leased on to the same worker."""

    changed: list[RunTransaction] = field(default_factory=list)
    continued: list[Work] = field(default_factory=list)
    # Steps became ready that no one holds yet: another worker may claim them.
    left_ready: bool = False


@dataclass(frozen=True)
class Continuation:
    """Lease steps a result made ready straight to this worker, skipping a claim; run the
    pure ones among them at once, in the same transaction."""

    worker_id: str
    lease: timedelta
    limit: int
    inline: Callable[[Work], Result | None] | None = None
    # A long chain of pure steps must not hold the write lock for long.
    inline_budget: int = 100


def apply_results(
    d: Dialect,
    workflows: WorkflowCache,
    results: list[Result],
    rng: random.Random,
    now: datetime,
    continuation: Continuation | None = None,
    cache: RunCache | None = None,
) -> Gen[Applied]:
    """Apply results in one transaction; a result whose lease was lost changes nothing."""
    applied = Applied()
    opened = yield from open_runs(d, {result.work.run_id for result in results}, cache=cache)
    logs: list[list[Any]] = []
    pending = deque(results)
    inline_left = continuation.inline_budget if continuation else 0
    while pending:
        result = pending.popleft()
        work = result.work
        rt = opened.get(work.run_id)
        if rt is None:
            continue  # the run is gone: nothing is left to record the result in
        row = rt.step(work.step_id, work.item_index)
        # Fencing: only the holder of the current lease may write the step's result.
        if row is None or row.status != "running" or row.lease_token != work.lease_token:
            continue
        for level, message in result.logs:
            logs.append(
                [rt.run.workspace_id, rt.run.id, work.step_id, level, message, d.time(rt.now)]
            )
            # Watchers of the run see the line as it is written, like any other event.
            rt.emit("step.log", work.step_id, level=level, message=message)
        children = yield from _apply(d, rt, row, result, workflows, rng)
        applied.changed += children
        room = continuation.limit - len(applied.continued) if continuation else 0
        if continuation and room > 0:
            leased = yield from _continue(d, rt, workflows, continuation, now, room)
            for next_work in leased:
                can_inline = continuation.inline is not None and inline_left > 0
                done = (
                    continuation.inline(next_work) if continuation.inline and can_inline else None
                )
                if done is not None:
                    inline_left -= 1
                    pending.append(done)
                else:
                    applied.continued.append(next_work)
    for rt in opened.values():
        applied.left_ready = applied.left_ready or any(
            row.status in ("queued", "retrying") for row in rt.steps.values()
        )
    yield from flush_runs(d, opened.values())
    applied.changed = list(opened.values()) + applied.changed
    applied.changed += yield from settle_parents(d, applied.changed, workflows)
    yield from execute_many(
        "INSERT INTO run_logs (workspace_id, run_id, step_id, level, message, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        logs,
    )
    return applied


def _apply(
    d: Dialect,
    rt: RunTransaction,
    row: StepRow,
    result: Result,
    workflows: WorkflowCache,
    rng: random.Random,
) -> Gen[list[RunTransaction]]:
    _record_attempt(row, result, rt)
    if result.input is not None:
        row.input = result.input
    children: list[RunTransaction] = []
    outcome = result.outcome
    if isinstance(outcome, Completed):
        rt.complete_step(row, outcome.output, outcome.handle)
    elif isinstance(outcome, Failed):
        _fail_or_retry(rt, row, result, outcome, rng)
    elif isinstance(outcome, Waiting):
        _wait(rt, row, outcome)
    elif isinstance(outcome, Deferred):
        _park(rt, row, outcome)
    elif isinstance(outcome, FanOut):
        fan_out(rt, row, outcome.items, outcome.concurrency, outcome.step_type)
    else:
        child = yield from start_child(d, rt, row, outcome, workflows)
        children += [child] if child is not None else []
    if row.item_index != WHOLE_STEP and row.status in STEP_TERMINAL:
        item_settled(rt, row)
    prepared = yield from workflows.get(d, rt.run.workflow_id)
    rt.advance(prepared.graph)
    return children


def _continue(
    d: Dialect,
    rt: RunTransaction,
    workflows: WorkflowCache,
    continuation: Continuation,
    now: datetime,
    limit: int,
) -> Gen[list[Work]]:
    """The run is locked already: lease its ready steps on, no claim needed."""
    ready = [
        row
        for row in rt.steps.values()
        if row.status == "queued" and (row.available_at is None or row.available_at <= rt.now)
    ][:limit]
    if not ready:
        return []
    prepared = yield from workflows.get(d, rt.run.workflow_id)
    expires = now + continuation.lease
    return lease_steps(rt, prepared, ready, continuation.worker_id, new_id(), expires)


def _record_attempt(row: StepRow, result: Result, rt: RunTransaction) -> None:
    outcome = result.outcome
    if isinstance(outcome, Deferred):
        return
    entry: dict[str, Any] = {
        "attempt": row.attempt,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "ended_at": rt.now.isoformat(),
        "outcome": type(outcome).__name__.lower(),
    }
    if isinstance(outcome, Failed):
        entry["error"] = outcome.error
        entry["kind"] = outcome.kind
    row.attempts = [*(row.attempts or []), entry]


def _fail_or_retry(
    rt: RunTransaction, row: StepRow, result: Result, failed: Failed, rng: random.Random
) -> None:
    row.error = failed.error
    if should_retry(result, failed):
        delay = backoff(result.retry, row.attempt, rng)
        row.available_at = rt.now + timedelta(seconds=delay)
        rt.set_step_status(
            row,
            "retrying",
            attempt=row.attempt,
            error=failed.error,
            retry_in_seconds=round(delay, 3),
        )
        return
    rt.set_step_status(row, "failed", attempt=row.attempt, error=failed.error, kind=failed.kind)


def _wait(rt: RunTransaction, row: StepRow, waiting: Waiting) -> None:
    row.state = {**kept_state(row), **waiting.request}
    if waiting.timeout_seconds is not None:
        row.available_at = rt.now + timedelta(seconds=waiting.timeout_seconds)
    else:
        row.available_at = None
    rt.set_step_status(row, "waiting", request=dict(waiting.request))
    wait_event = WAIT_EVENTS.get(row.step_type)
    if wait_event is not None and row.item_index == WHOLE_STEP:
        rt.emit(wait_event, row.step_id, **dict(waiting.request))


def _park(rt: RunTransaction, row: StepRow, deferred: Deferred) -> None:
    row.state = {**kept_state(row), **deferred.saved}
    row.available_at = deferred.until
    rt.set_step_status(row, "queued", until=deferred.until.isoformat())


def release_leases(d: Dialect, works: list[Work]) -> Gen[list[RunTransaction]]:
    """Give steps back to the queue, same attempt, for another worker to run."""
    opened = yield from open_runs(d, {work.run_id for work in works})
    for work in works:
        rt = opened.get(work.run_id)
        row = rt.step(work.step_id, work.item_index) if rt is not None else None
        if rt is None or row is None:
            continue
        if row.status != "running" or row.lease_token != work.lease_token:
            continue
        row.available_at = rt.now
        rt.set_step_status(row, "queued", reason="the worker stopped")
    yield from flush_runs(d, opened.values())
    return list(opened.values())
