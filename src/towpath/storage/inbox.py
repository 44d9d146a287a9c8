"""The inbox's one read: the steps of a workspace that wait for a person, with their run
and workflow, by when they began to wait."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from towpath.domain.states import StepStatus
from towpath.storage.models import Run, StepRun, Workflow

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

# The step types a person answers: an approval by its rules, a clarification by anyone
# who may answer runs.
HUMAN_STEPS = ("approval", "clarification")
# The most waiting steps one read looks at; past it the inbox says it is not exact.
SCAN_LIMIT = 5000


@dataclass(frozen=True)
class WaitingStep:
    run_id: str
    step_id: str
    step_type: str
    workflow_id: str
    workflow_name: str
    # Who started the run: an approval may refuse them (no self-approval).
    started_by: str | None
    waiting_since: datetime | None
    # When the step's timer next wakes it: its timeout, or its next reminder.
    wakes_at: datetime | None
    state: dict[str, Any]


@dataclass(frozen=True)
class InboxFilter:
    workflow_id: str | None = None
    step_type: str | None = None
    since: datetime | None = None
    run_id: str | None = None


async def waiting_steps(
    session: AsyncSession, workspace_id: str, where: InboxFilter, limit: int = SCAN_LIMIT
) -> list[WaitingStep]:
    """Oldest first. Reads the waiting rows of the workspace through their partial index."""
    stmt = (
        select(
            StepRun.run_id,
            StepRun.step_id,
            StepRun.step_type,
            Run.workflow_id,
            Workflow.name,
            Run.created_by,
            StepRun.started_at,
            StepRun.available_at,
            StepRun.state,
        )
        .join(Run, Run.id == StepRun.run_id)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(
            StepRun.workspace_id == workspace_id,
            StepRun.status == StepStatus.WAITING,
            # A for_each's items are answered through the step itself, never one by one.
            StepRun.item_index < 0,
            StepRun.step_type.in_(
                (where.step_type,) if where.step_type is not None else HUMAN_STEPS
            ),
        )
        .order_by(StepRun.started_at, StepRun.id)
        .limit(limit)
    )
    if where.workflow_id is not None:
        stmt = stmt.where(Run.workflow_id == where.workflow_id)
    if where.since is not None:
        stmt = stmt.where(StepRun.started_at >= where.since)
    if where.run_id is not None:
        stmt = stmt.where(StepRun.run_id == where.run_id)
    rows = await session.execute(stmt)
    return [
        WaitingStep(
            run_id=row.run_id,
            step_id=row.step_id,
            step_type=row.step_type,
            workflow_id=row.workflow_id,
            workflow_name=row.name,
            started_by=row.created_by,
            waiting_since=row.started_at,
            wakes_at=row.available_at,
            state=row.state if isinstance(row.state, dict) else {},
        )
        for row in rows
    ]
