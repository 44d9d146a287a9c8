"""The named metrics runs record: listed, read one by one, summarised per task or run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.storage import recorded_metrics as queries
from towpath.storage import runs, tasks
from towpath.storage.recorded_metrics import MetricFilter

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.storage.database import Database
    from towpath.storage.models import RunMetric
    from towpath.storage.recorded_metrics import MetricSummary


async def list_metrics(
    db: Database, caller: Principal, where: MetricFilter, skip: int, limit: int
) -> tuple[list[RunMetric], int]:
    async with db.read() as session:
        return await queries.list_metrics(session, caller.workspace_id, where, skip, limit)


async def get_metric(db: Database, caller: Principal, metric_id: str) -> RunMetric:
    async with db.read() as session:
        return await queries.get_metric(session, caller.workspace_id, metric_id)


async def task_summary(db: Database, caller: Principal, task_id: str) -> list[MetricSummary]:
    async with db.read() as session:
        await tasks.get_task(session, caller.workspace_id, task_id)
        where = MetricFilter(task_id=task_id)
        return await queries.summaries(session, caller.workspace_id, where)


async def run_summary(db: Database, caller: Principal, run_id: str) -> list[MetricSummary]:
    async with db.read() as session:
        await runs.get_run(session, run_id, caller.workspace_id)
        return await queries.summaries(session, caller.workspace_id, MetricFilter(run_id=run_id))
