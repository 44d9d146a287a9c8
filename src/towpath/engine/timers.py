"""Waiting steps whose time ran out, and runs past their deadline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.states import RunStatus, StepStatus
from towpath.engine.approvals import approval_due
from towpath.engine.fan_out import item_settled
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.run_io import flush_runs, open_runs
from towpath.engine.sql import fetch
from towpath.engine.subruns import settle_parents

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.graphs import PreparedWorkflow, WorkflowCache
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import StepRow


def expire_due(
    d: Dialect, workflows: WorkflowCache, now: datetime, limit: int
) -> Gen[list[RunTransaction]]:
    due_steps = yield from fetch(
        "SELECT s.run_id, s.id FROM step_runs s JOIN runs r ON r.id = s.run_id"
        # A paused run's timers wait for the unpause, then fire at their own time.
        " WHERE s.status = 'waiting' AND s.available_at <= ? AND r.status <> 'paused'"
        f" ORDER BY s.available_at LIMIT ? {d.lock('FOR UPDATE OF r SKIP LOCKED')}",
        d.time(now),
        limit,
    )
    due_runs = yield from fetch(
        "SELECT id FROM runs WHERE status IN ('running', 'waiting') AND deadline_at <= ?"
        f" LIMIT ? {d.lock('FOR UPDATE SKIP LOCKED')}",
        d.time(now),
        limit,
    )
    # One transition per run, even when a run has a step and a deadline due at once.
    opened = yield from open_runs(d, {r[0] for r in due_steps} | {r[0] for r in due_runs})
    changed: dict[str, RunTransaction] = {}
    for run_id, step_run_id in due_steps:
        rt = opened.get(run_id)
        row = next((r for r in rt.steps.values() if r.id == step_run_id), None) if rt else None
        due_at = row.available_at if row is not None else None
        if (
            rt is None
            or rt.run.status == RunStatus.PAUSED
            or row is None
            or row.status != StepStatus.WAITING
            or due_at is None
            or due_at > now
        ):
            continue
        prepared = yield from workflows.get(d, rt.run.workflow_id)
        config = prepared.nodes[row.step_id].config
        if row.item_index != WHOLE_STEP:
            # An item times out by its own step's config, and its loop hears of it.
            config = dict(config.get("step", {}).get("config", {}))
        ended = _time_out(rt, row, prepared, config, now)
        if ended and row.item_index != WHOLE_STEP:
            yield from item_settled(rt, row)
        rt.advance(prepared.graph)
        changed[run_id] = rt
    for (run_id,) in due_runs:
        # Runs past their deadline fail, and what they were doing is cancelled.
        rt = opened.get(run_id)
        if rt is not None and rt.run.status in (RunStatus.RUNNING, RunStatus.WAITING):
            rt.fail_run("the run took longer than its timeout")
            changed[run_id] = rt
    yield from flush_runs(d, changed.values())
    settled = yield from settle_parents(d, list(changed.values()), workflows)
    return [*changed.values(), *settled]


def _time_out(
    rt: RunTransaction,
    row: StepRow,
    prepared: PreparedWorkflow,
    config: dict[str, Any],
    now: datetime,
) -> bool:
    """Whether the step ended; an approval's reminder or escalation leaves it waiting."""
    on_timeout = config.get("on_timeout", "fail")
    if row.step_type == "approval":
        return approval_due(rt, row, prepared, on_timeout, now)
    if row.step_type == "clarification" and on_timeout == "skip":
        rt.emit("clarification.answered", row.step_id, answers={}, answered_by="timeout")
        rt.complete_step(row, {}, None)
        return True
    row.error = f"no answer within the step's timeout ({row.step_type})"
    rt.set_step_status(row, StepStatus.FAILED, error=row.error, kind="timeout")
    return True
