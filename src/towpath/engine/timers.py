"""Waiting steps whose time ran out: fail them, or answer them with the configured default."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from towpath.engine.human import decide_approval
from towpath.engine.outcomes import settle_parents
from towpath.engine.transition import RunTransaction
from towpath.storage.models import Run, StepRun

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.engine.graphs import PreparedWorkflow, WorkflowCache


async def expire_waiting_steps(
    session: AsyncSession, workflows: WorkflowCache, now: datetime, limit: int
) -> list[RunTransaction]:
    due = (
        await session.execute(
            select(StepRun.run_id, StepRun.id)
            .join(Run, Run.id == StepRun.run_id)
            .where(StepRun.status == "waiting", StepRun.available_at <= now)
            .order_by(StepRun.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Run)
        )
    ).all()
    changed = []
    for run_id, step_run_id in due:
        rt = await RunTransaction.open(session, run_id)
        row = next((r for r in rt.steps.values() if r.id == step_run_id), None)
        if (
            row is None
            or row.status != "waiting"
            or row.available_at is None
            or row.available_at > now
        ):
            continue
        prepared = await workflows.get(session, rt.run.workflow_id)
        config = prepared.nodes[row.step_id].config
        _time_out(rt, row, prepared, config)
        rt.advance(prepared.graph)
        changed.append(rt)
    changed += await _expire_runs(session, now, limit)
    changed += await settle_parents(session, changed, workflows)
    await session.flush()
    return changed


async def _expire_runs(session: AsyncSession, now: datetime, limit: int) -> list[RunTransaction]:
    """Runs past their deadline fail, and what they were doing is cancelled."""
    due = (
        await session.scalars(
            select(Run.id)
            .where(Run.status.in_(("running", "waiting")), Run.deadline_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    changed = []
    for run_id in due:
        rt = await RunTransaction.open(session, run_id)
        if rt.run.status in ("running", "waiting"):
            rt.fail_run("the run took longer than its timeout")
            changed.append(rt)
    return changed


def _time_out(
    rt: RunTransaction, row: StepRun, prepared: PreparedWorkflow, config: dict[str, Any]
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
