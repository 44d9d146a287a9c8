"""Statistics over runs: a workflow's over a time window, one run's per step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.domain.errors import InvalidRequest
from towpath.storage import runs, stats, workflows

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest
    from towpath.storage.rows import RunRow

DEFAULT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


def window(since: datetime | None, until: datetime | None) -> Window:
    """The window asked for; by default the seven days before `until` (or now)."""
    end = until or utcnow()
    start = since or end - DEFAULT_WINDOW
    # since == until is an empty window: nothing in it, but nothing wrong with asking.
    if start > end:
        raise InvalidRequest(
            "`since` must not be after `until`",
            details={"since": start.isoformat(), "until": end.isoformat()},
        )
    return Window(start, end)


async def workflow_stats(
    db: Database, caller: Principal, workflow_id: str, span: Window, *, lineage: bool = False
) -> stats.WorkflowStats:
    """One version's runs, or with `lineage` those of every version of its workflow."""
    return await db.reading(_workflow_stats, caller.workspace_id, workflow_id, span, lineage)


async def _workflow_stats(
    session: AsyncSession, workspace_id: str, workflow_id: str, span: Window, lineage: bool
) -> stats.WorkflowStats:
    found = await workflows.get_workflow(session, workspace_id, workflow_id)
    return await stats.workflow_stats(
        session,
        workspace_id,
        workflow_id,
        span.since,
        span.until,
        found.lineage_id if lineage else None,
    )


@dataclass(frozen=True)
class RunMetrics:
    run: RunRow
    totals: dict[str, Any]
    steps: Page[dict[str, Any]]

    @property
    def duration_seconds(self) -> float | None:
        if self.run.started_at is None or self.run.completed_at is None:
            return None
        return (self.run.completed_at - self.run.started_at).total_seconds()


async def run_metrics(
    db: Database, caller: Principal, run_id: str, page: PageRequest
) -> RunMetrics:
    return await db.reading(_run_metrics, run_id, caller.workspace_id, page)


async def _run_metrics(
    session: AsyncSession, run_id: str, workspace_id: str, page: PageRequest
) -> RunMetrics:
    run = await runs.get_run(session, run_id, workspace_id)
    totals = await stats.run_totals(session, run_id)
    steps = await stats.step_metrics(session, run_id, page)
    return RunMetrics(run, totals, steps)
