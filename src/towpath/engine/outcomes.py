"""Writing what a step's execution came to: complete, retry, fail, wait or park it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from towpath.domain.states import STEP_TERMINAL, EventType, StepStatus
from towpath.engine.approvals import with_workspace_groups
from towpath.engine.attempts import record_attempt
from towpath.engine.event_gate import hold_event_name
from towpath.engine.fan_out import fan_out, item_settled, kept_state
from towpath.engine.queue_tasks import enqueue_task
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.run_io import flush_runs, open_runs
from towpath.engine.step_records import record_completion
from towpath.engine.subruns import start_child
from towpath.steps.common import SINGLE_ATTEMPT, RetryPolicy
from towpath.steps.execution import Completed, Deferred, Failed, FanOut, Waiting

if TYPE_CHECKING:
    import random

    from towpath.engine.execute import Result
    from towpath.engine.graphs import PreparedWorkflow, WorkflowCache
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction
    from towpath.engine.work import Work
    from towpath.storage.rows import StepRow

# What a step waits for becomes its own event, for the people who answer it.
WAIT_EVENTS = {"approval": "approval.requested", "clarification": "clarification.requested"}


def backoff(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Exponential from `backoff_seconds`, capped, with full jitter on the upper half."""
    ceiling = min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** (attempt - 1))
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def should_retry(policy: RetryPolicy, attempt: int, failed: Failed) -> bool:
    if not failed.retryable or attempt >= policy.max_attempts:
        return False
    return policy.retry_on is None or failed.kind in policy.retry_on


def record_result(
    d: Dialect,
    rt: RunTransaction,
    row: StepRow,
    result: Result,
    workflows: WorkflowCache,
    rng: random.Random,
) -> Gen[list[RunTransaction]]:
    # `result` comes redacted of the secrets its step read (`engine.results`).
    _record_attempt(row, result, rt)
    if result.input is not None:
        row.input = result.input
    children: list[RunTransaction] = []
    outcome = result.outcome
    if isinstance(outcome, Completed):
        rt.complete_step(row, outcome.output, outcome.handle)
        record_completion(rt, row, outcome.output)
    elif isinstance(outcome, Failed):
        fail_or_retry(rt, row, result.retry, outcome, rng)
    elif isinstance(outcome, Waiting):
        if row.step_type == "approval":
            outcome = yield from with_workspace_groups(d, rt.run.workspace_id, outcome)
        _wait(rt, row, outcome)
        event_name = outcome.request.get("event_name")
        if row.step_type == "wait_for_event" and isinstance(event_name, str):
            yield from hold_event_name(d, rt.run.workspace_id, event_name, alone=False)
        if row.step_type == "task":
            yield from enqueue_task(d, rt, row, outcome.request)
    elif isinstance(outcome, Deferred):
        _park(rt, row, outcome)
    elif isinstance(outcome, FanOut):
        limit = workflows.limits.for_each_items
        yield from fan_out(rt, row, outcome.items, outcome.concurrency, outcome.step_type, limit)
    else:
        child = yield from start_child(d, rt, row, outcome, workflows)
        children += [child] if child is not None else []
    if row.item_index != WHOLE_STEP and row.status in STEP_TERMINAL:
        yield from item_settled(rt, row)
    prepared = yield from workflows.get(d, rt.run.workflow_id)
    rt.advance(prepared.graph)
    return children


def _record_attempt(row: StepRow, result: Result, rt: RunTransaction) -> None:
    outcome = result.outcome
    if isinstance(outcome, Deferred):
        return  # parked, not ended: the entry is written when it ends
    details = {"error": outcome.error, "kind": outcome.kind} if isinstance(outcome, Failed) else {}
    record_attempt(row, type(outcome).__name__.lower(), rt.now, **details)


def fail_or_retry(
    rt: RunTransaction, row: StepRow, policy: RetryPolicy, failed: Failed, rng: random.Random
) -> None:
    """The step's attempt failed: another is due later if `policy` allows, else it failed.
    Results of executions and failures reported from outside (workers, agents) alike."""
    row.error = failed.error
    # The destination's circuit, when the call left it open or half-open, is in the event.
    circuit: dict[str, Any] = {"circuit": failed.circuit} if failed.circuit else {}
    if should_retry(policy, row.attempt, failed):
        delay = backoff(policy, row.attempt, rng)
        # A destination's Retry-After (or its open circuit) outlasts the policy's backoff.
        delay = max(delay, failed.retry_after or 0.0)
        row.available_at = rt.now + timedelta(seconds=delay)
        rt.set_step_status(
            row,
            StepStatus.RETRYING,
            attempt=row.attempt,
            error=failed.error,
            kind=failed.kind,
            retry_in_seconds=round(delay, 3),
            **circuit,
        )
        return
    rt.set_step_status(
        row, StepStatus.FAILED, attempt=row.attempt, error=failed.error, kind=failed.kind,
        **circuit,
    )  # fmt: skip


def step_retry_policy(prepared: PreparedWorkflow, step_id: str) -> RetryPolicy:
    """The `retry` a node's config gives (a for_each's inner step's, for its items)."""
    node = prepared.nodes.get(step_id)
    config = node.config if node is not None else {}
    if node is not None and node.type == "for_each":
        config = config.get("step", {}).get("config", {})
    try:
        return RetryPolicy.model_validate(config.get("retry") or {})
    except ValidationError:
        return SINGLE_ATTEMPT


def _wait(rt: RunTransaction, row: StepRow, waiting: Waiting) -> None:
    row.state = {**kept_state(row), **waiting.request}
    if waiting.timeout_seconds is not None:
        row.available_at = rt.now + timedelta(seconds=waiting.timeout_seconds)
    else:
        row.available_at = None
    rt.set_step_status(row, StepStatus.WAITING, request=dict(waiting.request))
    wait_event = WAIT_EVENTS.get(row.step_type)
    if wait_event is not None and row.item_index == WHOLE_STEP:
        rt.emit(wait_event, row.step_id, **dict(waiting.request))


def _park(rt: RunTransaction, row: StepRow, deferred: Deferred) -> None:
    row.state = {**kept_state(row), **deferred.saved}
    row.available_at = deferred.until
    # Back in the queue until it is due, but not a new start: its own event says so.
    rt.set_step_status(
        row, StepStatus.QUEUED, event=EventType.STEP_DELAYED, until=deferred.until.isoformat()
    )


def release_leases(d: Dialect, works: list[Work]) -> Gen[list[RunTransaction]]:
    """Give steps back to the queue, same attempt, for another worker to run."""
    opened = yield from open_runs(d, {work.run_id for work in works})
    for work in works:
        rt = opened.get(work.run_id)
        row = rt.step(work.step_id, work.item_index) if rt is not None else None
        if rt is None or row is None:
            continue
        if row.status != StepStatus.RUNNING or row.lease_token != work.lease_token:
            continue
        record_attempt(row, "interrupted", rt.now, reason="the worker stopped")
        row.available_at = rt.now
        # Not started until another worker starts it again, as the same attempt.
        row.started_at = None
        rt.set_step_status(row, StepStatus.QUEUED, reason="the worker stopped")
    yield from flush_runs(d, opened.values())
    return list(opened.values())
