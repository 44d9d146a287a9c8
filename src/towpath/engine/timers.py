"""Waiting steps whose time ran out, and runs past their deadline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.engine.human import decide_approval
from towpath.engine.sql import fetch
from towpath.engine.subruns import settle_parents
from towpath.engine.transition import RunTransaction

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.graphs import PreparedWorkflow, WorkflowCache
    from towpath.engine.rows import StepRow
    from towpath.engine.sql import Dialect, Gen


def expire_due(
    d: Dialect, workflows: WorkflowCache, now: datetime, limit: int
) -> Gen[list[RunTransaction]]:
    changed = yield from _expire_waiting_steps(d, workflows, now, limit)
    changed += yield from _expire_runs(d, now, limit)
    for rt in changed:
        yield from rt.flush()
    changed += yield from settle_parents(d, changed, workflows)
    return changed


def _expire_waiting_steps(
    d: Dialect, workflows: WorkflowCache, now: datetime, limit: int
) -> Gen[list[RunTransaction]]:
    due = yield from fetch(
        "SELECT s.run_id, s.id FROM step_runs s JOIN runs r ON r.id = s.run_id"
        " WHERE s.status = 'waiting' AND s.available_at <= ?"
        f" ORDER BY s.available_at LIMIT ? {d.lock('FOR UPDATE OF r SKIP LOCKED')}",
        d.time(now),
        limit,
    )
    changed: dict[str, RunTransaction] = {}
    for run_id, step_run_id in due:
        rt = changed.get(run_id) or (yield from RunTransaction.open(d, run_id))
        row = next((r for r in rt.steps.values() if r.id == step_run_id), None)
        due_at = row.available_at if row is not None else None
        if row is None or row.status != "waiting" or due_at is None or due_at > now:
            continue
        prepared = yield from workflows.get(d, rt.run.workflow_id)
        _time_out(rt, row, prepared, prepared.nodes[row.step_id].config)
        rt.advance(prepared.graph)
        changed[run_id] = rt
    return list(changed.values())


def _expire_runs(d: Dialect, now: datetime, limit: int) -> Gen[list[RunTransaction]]:
    """Runs past their deadline fail, and what they were doing is cancelled."""
    due = yield from fetch(
        "SELECT id FROM runs WHERE status IN ('running', 'waiting') AND deadline_at <= ?"
        f" LIMIT ? {d.lock('FOR UPDATE SKIP LOCKED')}",
        d.time(now),
        limit,
    )
    changed = []
    for (run_id,) in due:
        rt = yield from RunTransaction.open(d, run_id)
        if rt.run.status in ("running", "waiting"):
            rt.fail_run("the run took longer than its timeout")
            changed.append(rt)
    return changed


def _time_out(
    rt: RunTransaction, row: StepRow, prepared: PreparedWorkflow, config: dict[str, Any]
) -> None:
    on_timeout = config.get("on_timeout", "fail")
    if row.step_type == "approval" and on_timeout in ("approve", "reject"):
        decide_approval(
            rt,
            row,
            prepared,
            approved=on_timeout == "approve",
            comment="decided by timeout",
            decided_by="timeout",
        )
        return
    if row.step_type == "clarification" and on_timeout == "skip":
        rt.emit("clarification.answered", row.step_id, answers={}, answered_by="timeout")
        rt.complete_step(row, {}, None)
        return
    row.error = f"no answer within the step's timeout ({row.step_type})"
    rt.set_step_status(row, "failed", error=row.error, kind="timeout")
