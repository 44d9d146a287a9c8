"""Tasks of the `tasks` seed profile: each a workflow lineage, with a status read from its
newest run and a success rate from all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select

from towpath.domain.errors import Conflict, NotFound
from towpath.storage.models import Run, RunLog, StepRun, Task, Workflow
from towpath.storage.rows import RUN_COLUMNS
from towpath.storage.runs import WHOLE, run_row

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.storage.rows import RunRow

# A task's statuses, as its document names them.
TASK_STATUSES = ("pending", "running", "completed", "failed", "cancelled", "timeout")
_ENDED = ("completed", "failed", "cancelled")


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"

    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id!r} not found", details={"id": task_id})


class TaskExists(Conflict):
    code = "TASK_EXISTS"

    def __init__(self, task_id: str) -> None:
        super().__init__(f"workflow {task_id!r} is a task already", details={"id": task_id})


@dataclass(frozen=True)
class TaskView:
    task: Task
    status: str
    total_runs: int
    successful_runs: int
    failed_runs: int

    @property
    def success_rate(self) -> float:
        ended = self.successful_runs + self.failed_runs
        return self.successful_runs / ended if ended else 0.0


def run_status(status: Any, error: Any) -> Any:
    """A run's status in the document's words, as SQL: a paused run is pending, one that
    waits is running, one whose approval ran out of time is `timeout`."""
    return case(
        (status.is_(None), "pending"),
        (status.in_(("pending", "paused")), "pending"),
        (status.in_(("running", "waiting")), "running"),
        (and_(status == "failed", error.like("%timeout%")), "timeout"),
        else_=status,
    )


def _newest_runs(workspace_id: str) -> Any:
    order = (Run.created_at.desc(), Run.id.desc())
    return (
        select(
            Run.lineage_id,
            Run.status,
            Run.error,
            func.row_number().over(partition_by=Run.lineage_id, order_by=order).label("rank"),
        )
        .where(Run.workspace_id == workspace_id, Run.parent_run_id.is_(None))
        .subquery()
    )


async def add_task(session: AsyncSession, task: Task) -> None:
    if await session.get(Task, task.id) is not None:
        raise TaskExists(task.id)
    session.add(task)
    await session.flush()


async def get_task(
    session: AsyncSession, workspace_id: str, task_id: str, *, for_update: bool = False
) -> Task:
    stmt = select(Task).where(Task.id == task_id, Task.workspace_id == workspace_id)
    if for_update:
        stmt = stmt.with_for_update()
    found: Task | None = await session.scalar(stmt)
    if found is None:
        raise TaskNotFound(task_id)
    return found


async def list_tasks(
    session: AsyncSession,
    workspace_id: str,
    skip: int,
    limit: int,
    statuses: Sequence[str] = (),
    task_id: str | None = None,
) -> tuple[list[TaskView], int]:
    newest = _newest_runs(workspace_id)
    status = run_status(newest.c.status, newest.c.error)
    stmt = (
        select(Task, status.label("status"))
        .outerjoin(newest, and_(newest.c.lineage_id == Task.id, newest.c.rank == 1))
        .where(Task.workspace_id == workspace_id)
    )
    if statuses:
        stmt = stmt.where(status.in_(statuses))
    if task_id is not None:
        stmt = stmt.where(Task.id == task_id)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(Task.created_at.desc(), Task.id.desc()).offset(skip).limit(limit)
    found = (await session.execute(page)).all()
    counts = await _run_counts(session, workspace_id, [row[0].id for row in found])
    views = [TaskView(task, str(state), *counts.get(task.id, (0, 0, 0))) for task, state in found]
    return views, total


async def task_view(session: AsyncSession, workspace_id: str, task_id: str) -> TaskView:
    views, _ = await list_tasks(session, workspace_id, 0, 1, task_id=task_id)
    if not views:
        raise TaskNotFound(task_id)
    return views[0]


async def _run_counts(
    session: AsyncSession, workspace_id: str, ids: list[str]
) -> dict[str, tuple[int, int, int]]:
    if not ids:
        return {}
    stmt = (
        select(
            Run.lineage_id,
            func.count(),
            func.sum(case((Run.status == "completed", 1), else_=0)),
            func.sum(case((Run.status.in_(_ENDED[1:]), 1), else_=0)),
        )
        .where(
            Run.workspace_id == workspace_id,
            Run.lineage_id.in_(ids),
            Run.parent_run_id.is_(None),
        )
        .group_by(Run.lineage_id)
    )
    return {
        str(lineage): (int(total), int(done or 0), int(failed or 0))
        for lineage, total, done, failed in (await session.execute(stmt)).all()
    }


async def list_task_runs(
    session: AsyncSession, workspace_id: str, skip: int, limit: int, task_id: str | None
) -> tuple[list[RunRow], int]:
    """The runs of tasks (of one task with `task_id`), newest first."""
    stmt = select(*[Run.__table__.c[name] for name in RUN_COLUMNS]).where(
        Run.workspace_id == workspace_id, Run.parent_run_id.is_(None)
    )
    if task_id is not None:
        stmt = stmt.where(Run.lineage_id == task_id)
    else:
        stmt = stmt.where(
            Run.lineage_id.in_(select(Task.id).where(Task.workspace_id == workspace_id))
        )
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(Run.created_at.desc(), Run.id.desc()).offset(skip).limit(limit)
    return [run_row(row) for row in (await session.execute(page)).all()], total


async def run_logs(
    session: AsyncSession, run_id: str, skip: int, limit: int
) -> tuple[list[RunLog], int]:
    stmt = select(RunLog).where(RunLog.run_id == run_id)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(RunLog.id).offset(skip).limit(limit)
    return list((await session.scalars(page)).all()), total


async def task_of_workflow(session: AsyncSession, workflow_id: str) -> tuple[str | None, int]:
    """The task a workflow version belongs to (None if its lineage is no task), and how
    many steps its graph has."""
    found = (
        await session.execute(
            select(Task.id, Workflow.definition)
            .select_from(Workflow)
            .outerjoin(Task, Task.id == Workflow.lineage_id)
            .where(Workflow.id == workflow_id)
        )
    ).first()
    if found is None:
        return None, 0
    task_id, definition = found
    nodes = definition.get("nodes", []) if isinstance(definition, dict) else []
    return task_id, len(nodes)


async def steps_done(session: AsyncSession, run_id: str) -> int:
    """How many of a run's steps have ended (completed or skipped)."""
    stmt = select(func.count()).where(
        StepRun.run_id == run_id,
        StepRun.item_index == WHOLE,
        StepRun.status.in_(("completed", "skipped")),
    )
    return int(await session.scalar(stmt) or 0)
