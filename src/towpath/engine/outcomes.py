"""Writing what a step's execution came to: complete, retry, fail, wait or park it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.states import STEP_TERMINAL
from towpath.engine.fan_out import fan_out, item_settled
from towpath.engine.subruns import settle_parent, start_child
from towpath.engine.transition import WHOLE_STEP, RunTransaction
from towpath.steps.execution import Completed, Deferred, Failed, FanOut, Waiting
from towpath.storage.models import RunLog

if TYPE_CHECKING:
    import random

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.engine.execute import Result
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.work import Work
    from towpath.steps.common import RetryPolicy
    from towpath.storage.models import StepRun

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


async def apply_result(
    session: AsyncSession, workflows: WorkflowCache, result: Result, rng: random.Random
) -> list[RunTransaction]:
    """Apply one result in the caller's transaction: the runs it changed, none when the
    lease was lost."""
    work = result.work
    rt = await RunTransaction.open(session, work.run_id)
    row = rt.step(work.step_id, work.item_index)
    # Fencing: only the holder of the current lease may write the step's result.
    if row is None or row.status != "running" or row.lease_token != work.lease_token:
        return []
    _write_logs(rt, work.step_id, result.logs)
    _record_attempt(row, result, rt)
    if result.input is not None:
        row.input = result.input
    changed = [rt]
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
        child = await start_child(rt, row, outcome, workflows)
        changed += [child] if child is not None else []
    if row.item_index != WHOLE_STEP and row.status in STEP_TERMINAL:
        item_settled(rt, row)
    prepared = await workflows.get(session, rt.run.workflow_id)
    rt.advance(prepared.graph)
    return changed + await settle_parents(session, changed, workflows)


async def settle_parents(
    session: AsyncSession, transactions: list[RunTransaction], workflows: WorkflowCache
) -> list[RunTransaction]:
    """Parents answered by children that ended, up the tree."""
    answered: list[RunTransaction] = []
    pending = list(transactions)
    while pending:
        parent = await settle_parent(session, pending.pop(), workflows)
        if parent is not None:
            answered.append(parent)
            pending.append(parent)
    return answered


def _write_logs(rt: RunTransaction, step_id: str, logs: list[tuple[str, str]]) -> None:
    for level, message in logs:
        rt.session.add(
            RunLog(
                workspace_id=rt.run.workspace_id,
                run_id=rt.run.id,
                step_id=step_id,
                level=level,
                message=message,
                created_at=rt.now,
            )
        )


def _record_attempt(row: StepRun, result: Result, rt: RunTransaction) -> None:
    outcome = result.outcome
    entry: dict[str, Any] = {
        "attempt": row.attempt,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "ended_at": rt.now.isoformat(),
        "outcome": type(outcome).__name__.lower(),
    }
    if isinstance(outcome, Failed):
        entry["error"] = outcome.error
        entry["kind"] = outcome.kind
    if isinstance(outcome, Deferred):
        return
    row.attempts = [*(row.attempts or []), entry]


def _fail_or_retry(
    rt: RunTransaction, row: StepRun, result: Result, failed: Failed, rng: random.Random
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


def _wait(rt: RunTransaction, row: StepRun, waiting: Waiting) -> None:
    row.state = dict(waiting.request)
    if waiting.timeout_seconds is not None:
        row.available_at = rt.now + timedelta(seconds=waiting.timeout_seconds)
    else:
        row.available_at = None
    rt.set_step_status(row, "waiting", request=dict(waiting.request))
    wait_event = WAIT_EVENTS.get(row.step_type)
    if wait_event is not None and row.item_index == WHOLE_STEP:
        rt.emit(wait_event, row.step_id, **dict(waiting.request))


def _park(rt: RunTransaction, row: StepRun, deferred: Deferred) -> None:
    row.state = dict(deferred.saved)
    row.available_at = deferred.until
    rt.set_step_status(row, "queued", until=deferred.until.isoformat())


async def release_lease(session: AsyncSession, work: Work) -> RunTransaction | None:
    """Give a step back to the queue, same attempt, for another worker to run."""
    rt = await RunTransaction.open(session, work.run_id)
    row = rt.step(work.step_id, work.item_index)
    if row is None or row.status != "running" or row.lease_token != work.lease_token:
        return None
    row.available_at = rt.now
    rt.set_step_status(row, "queued", reason="the worker stopped")
    return rt
