"""Claiming ready steps: a lease per step, taken under the run's lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.ids import new_id
from towpath.domain.states import EventType, StepStatus
from towpath.engine.attempts import lose_attempt
from towpath.engine.fair_share import Turns, take_ready_steps
from towpath.engine.retry_plan import step_inputs
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.run_io import RunCache, flush_runs, open_runs
from towpath.engine.sql import fetch
from towpath.engine.work import Work

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from towpath.engine.graphs import PreparedWorkflow, WorkflowCache
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import StepRow


def claim_ready_steps(
    d: Dialect,
    workflows: WorkflowCache,
    worker_id: str,
    limit: int,
    lease: timedelta,
    now: datetime,
    cache: RunCache | None = None,
    turns: Turns | None = None,
) -> Gen[tuple[list[Work], list[RunTransaction]]]:
    """Lease up to `limit` steps: those whose lease ran out, then ready ones, each
    workspace in turn (`turns` remembers whose turn is next)."""
    # Lock the runs, skipping those another worker holds: run first, then its steps,
    # the same order as every other transition, so two transactions never deadlock.
    # Steps whose worker let its lease run out come first: they have waited longest.
    expired = yield from fetch(
        "SELECT s.run_id, s.id FROM step_runs s JOIN runs r ON r.id = s.run_id"
        " WHERE s.status = 'running' AND s.lease_expires_at < ?"
        f" ORDER BY s.lease_expires_at LIMIT ? {d.lock('FOR UPDATE OF r SKIP LOCKED')}",
        d.time(now),
        limit,
    )
    ready = yield from take_ready_steps(d, now, limit - len(expired), turns or Turns())
    candidates = [*expired, *ready]
    by_run: dict[str, set[str]] = {}
    for run_id, step_run_id in candidates:
        by_run.setdefault(run_id, set()).add(step_run_id)
    claimed: list[Work] = []
    token = new_id()
    opened = yield from open_runs(d, by_run, cache=cache)
    for run_id, rt in opened.items():
        prepared = yield from workflows.get(d, rt.run.workflow_id)
        wanted = by_run[run_id]
        rows = [r for r in rt.steps.values() if r.id in wanted and _still_claimable(r, now)]
        claimed += lease_steps(rt, prepared, rows, worker_id, token, now + lease)
    yield from flush_runs(d, opened.values())
    return claimed, list(opened.values())


def lease_steps(
    rt: RunTransaction,
    prepared: PreparedWorkflow,
    rows: list[StepRow],
    worker_id: str,
    token: str,
    expires: datetime,
) -> list[Work]:
    """Lease these steps of one run to a worker, and what it needs to execute them, as many
    as the run's concurrency bound leaves room for."""
    running = sum(1 for row in rt.steps.values() if row.status == StepStatus.RUNNING)
    rows = rows[: max(prepared.max_concurrency - running, 0)]
    variables = _variables(rt)
    resolved = step_inputs(rt.run)
    claimed = []
    for row in rows:
        event, extra = _start(rt, row)
        rt.set_step_status(
            row, StepStatus.RUNNING, event=event, attempt=row.attempt, worker=worker_id, **extra
        )
        row.lease_owner = worker_id
        row.lease_token = token
        row.lease_expires_at = expires
        node = prepared.nodes[row.step_id]
        config = node.config
        if row.item_index != WHOLE_STEP:
            config = dict(config.get("step", {}).get("config", {}))
        claimed.append(
            Work(
                step_run_id=row.id,
                run_id=rt.run.id,
                workflow_id=rt.run.workflow_id,
                step_id=row.step_id,
                item_index=row.item_index,
                step_type=row.step_type,
                attempt=row.attempt,
                lease_token=token,
                node=node,
                config=config,
                variables=_item_variables(variables, row),
                saved=dict(row.state) if isinstance(row.state, dict) else {},
                resolved=resolved.get(row.step_id) if row.item_index == WHOLE_STEP else None,
            )
        )
    return claimed


def _start(rt: RunTransaction, row: StepRow) -> tuple[EventType, dict[str, Any]]:
    """How the step (re)starts, and the event that says so."""
    if row.status == StepStatus.RUNNING:
        # Its lease ran out: the execution in flight is lost, and the same attempt runs
        # again, with the same idempotency key.
        owner = row.lease_owner
        lose_attempt(rt, row)
        row.started_at = rt.now
        return EventType.STEP_STARTED, {"reclaimed_from": owner}
    if row.attempt == 0 or row.status == StepStatus.RETRYING:
        row.attempt += 1
        row.started_at = rt.now
        return EventType.STEP_STARTED, {}
    if row.started_at is None:
        # A stopping worker handed it back: the same attempt runs again.
        row.started_at = rt.now
        return EventType.STEP_STARTED, {}
    # A timer parked it: the execution that started it carries on now.
    return EventType.STEP_RESUMED, {"resumed_by": "timer"}


def _still_claimable(row: StepRow, now: datetime) -> bool:
    if row.status in (StepStatus.QUEUED, StepStatus.RETRYING):
        return row.available_at is None or row.available_at <= now
    expires = row.lease_expires_at
    return row.status == StepStatus.RUNNING and expires is not None and expires < now


def _variables(rt: RunTransaction) -> dict[str, Any]:
    outputs = rt.outputs()
    run = {"id": rt.run.id, "workflow_id": rt.run.workflow_id, "trigger_type": rt.run.trigger_type}
    return {**outputs, "input": rt.run.input, "steps": outputs, "run": run, "secrets": {}}


def _item_variables(variables: dict[str, Any], row: StepRow) -> dict[str, Any]:
    if row.item_index == WHOLE_STEP:
        return variables
    state = row.state if isinstance(row.state, dict) else {}
    return {**variables, "item": state.get("item"), "index": row.item_index}
