"""Claiming ready steps: a lease per step, taken under the run's lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from towpath.domain.ids import new_id
from towpath.engine.transition import WHOLE_STEP, RunTransaction
from towpath.engine.work import Work
from towpath.storage.models import Run, StepRun

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.engine.graphs import WorkflowCache


def _claimable(now: datetime) -> Any:
    return or_(
        and_(StepRun.status.in_(("queued", "retrying")), StepRun.available_at <= now),
        # A lease that ran out: its worker died or stalled; the step runs again.
        and_(StepRun.status == "running", StepRun.lease_expires_at < now),
    )


async def claim_ready_steps(
    session: AsyncSession,
    workflows: WorkflowCache,
    worker_id: str,
    limit: int,
    lease: timedelta,
    now: datetime,
) -> list[Work]:
    # Lock the runs, skipping those another worker holds: run first, then its steps,
    # the same order as every other transition, so two transactions never deadlock.
    candidates = (
        await session.execute(
            select(StepRun.run_id, StepRun.id)
            .join(Run, Run.id == StepRun.run_id)
            .where(_claimable(now))
            .order_by(StepRun.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Run)
        )
    ).all()
    by_run: dict[str, set[str]] = {}
    for run_id, step_run_id in candidates:
        by_run.setdefault(run_id, set()).add(step_run_id)
    claimed: list[Work] = []
    token = new_id()
    for run_id, step_run_ids in by_run.items():
        rt = await RunTransaction.open(session, run_id)
        prepared = await workflows.get(session, rt.run.workflow_id)
        variables = _variables(rt)
        for row in rt.steps.values():
            if row.id not in step_run_ids or not _still_claimable(row, now):
                continue
            # A new attempt starts unless the step was only parked (a timer) or lost its lease.
            if row.attempt == 0 or row.status == "retrying":
                row.attempt += 1
            rt.set_step_status(
                row, "running", event="step.started", attempt=row.attempt, worker=worker_id
            )
            row.lease_owner = worker_id
            row.lease_token = token
            row.lease_expires_at = now + lease
            row.started_at = row.started_at or now
            node = prepared.nodes[row.step_id]
            config = node.config
            if row.item_index != WHOLE_STEP:
                config = dict(config.get("step", {}).get("config", {}))
            claimed.append(
                Work(
                    step_run_id=row.id,
                    run_id=run_id,
                    workflow_id=rt.run.workflow_id,
                    step_id=row.step_id,
                    item_index=row.item_index,
                    step_type=row.step_type,
                    attempt=row.attempt,
                    lease_token=token,
                    node=node,
                    config=config,
                    variables=_item_variables(variables, row),
                    saved=dict(row.state or {}) if isinstance(row.state, dict) else {},
                )
            )
    await session.flush()
    return claimed


def _still_claimable(row: StepRun, now: datetime) -> bool:
    if row.status in ("queued", "retrying"):
        return row.available_at is None or row.available_at <= now
    return (
        row.status == "running" and row.lease_expires_at is not None and row.lease_expires_at < now
    )


def _variables(rt: RunTransaction) -> dict[str, Any]:
    outputs = {
        step_id: row.output
        for (step_id, item), row in rt.steps.items()
        if item == WHOLE_STEP and row.status == "completed"
    }
    run = {"id": rt.run.id, "workflow_id": rt.run.workflow_id, "trigger_type": rt.run.trigger_type}
    return {**outputs, "input": rt.run.input, "steps": outputs, "run": run, "secrets": {}}


def _item_variables(variables: dict[str, Any], row: StepRun) -> dict[str, Any]:
    if row.item_index == WHOLE_STEP:
        return variables
    state = row.state if isinstance(row.state, dict) else {}
    return {**variables, "item": state.get("item"), "index": row.item_index}
