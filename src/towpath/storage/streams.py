"""What live streams read: a run's snapshot, pages of its events, and new events of many
runs at once, each past its own cursor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from towpath.domain.states import StepStatus
from towpath.storage.models import Run, RunEvent
from towpath.storage.rows import RunRow  # noqa: TC001 - a dataclass field type
from towpath.storage.runs import StepGlance, get_run, run_and_size, step_glances
from towpath.storage.workflows import get_workflow

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.ext.asyncio import AsyncSession


EventRow = tuple[Any, ...]


@dataclass(frozen=True)
class RunSnapshot:
    """A run as one transaction saw it: the row, its context, its steps, its last seq."""

    run: RunRow
    context: dict[str, Any]
    step_statuses: dict[str, str]
    seq: int
    # What each waiting step waits for (its state: an approval's rules and votes so far).
    waiting: dict[str, Any]
    # The steps and the graph's size, for the run as GET /runs/{id} shows it.
    steps: list[StepGlance] = field(default_factory=list)
    nodes: int = 0


@dataclass(frozen=True)
class ReplayPage:
    status: str
    last_seq: int
    events: list[EventRow]


async def run_snapshot(session: AsyncSession, run_id: str, workspace_id: str) -> RunSnapshot:
    run, nodes = await run_and_size(session, run_id, workspace_id)
    steps = await step_glances(session, run_id)
    statuses = {step.step_id: step.status for step in steps}
    context = {s.step_id: s.output for s in steps if s.status == StepStatus.COMPLETED}
    waiting = {s.step_id: s.state for s in steps if s.status == StepStatus.WAITING}
    return RunSnapshot(run, context, statuses, run.last_seq, waiting, steps, nodes)


async def replay_page(
    session: AsyncSession, run_id: str, workspace_id: str, after: int, limit: int
) -> ReplayPage:
    run = await get_run(session, run_id, workspace_id)
    events = await events_since(session, {run_id: after}, limit)
    return ReplayPage(run.status, run.last_seq, events)


async def check_workflow(session: AsyncSession, workflow_id: str, workspace_id: str) -> str:
    """The workflow's lineage; raises WorkflowNotFound unless it is visible in the workspace."""
    return (await get_workflow(session, workspace_id, workflow_id)).lineage_id


async def events_since(
    session: AsyncSession, cursors: Mapping[str, int], limit: int
) -> list[EventRow]:
    """Events with a seq above each run's cursor, run by run, each run's in seq order; each
    as (workspace_id, run_id, workflow_id, seq, event_type, step_id, data, created_at,
    lineage_id)."""
    if not cursors:
        return []
    past = [and_(RunEvent.run_id == run, RunEvent.seq > after) for run, after in cursors.items()]
    rows = await session.execute(
        select(
            RunEvent.workspace_id,
            RunEvent.run_id,
            Run.workflow_id,
            RunEvent.seq,
            RunEvent.event_type,
            RunEvent.step_id,
            RunEvent.data,
            RunEvent.created_at,
            Run.lineage_id,
        )
        .join(Run, Run.id == RunEvent.run_id)
        .where(or_(*past))
        .order_by(RunEvent.run_id, RunEvent.seq)
        .limit(limit)
    )
    return [tuple(row) for row in rows]
