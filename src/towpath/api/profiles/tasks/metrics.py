"""`/api/metrics/`: the named metrics runs record, and their summaries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from towpath.api.deps import DB, Viewer
from towpath.api.profiles.tasks.routing import DEFAULT_LIMIT, ROUTER_OPTIONS, Limit, Skip
from towpath.api.profiles.tasks.schemas import (
    RecordedMetric,
    RecordedMetricList,
    RecordedMetricsSummary,
    RecordedMetricSummary,
)
from towpath.api.schemas.errors import errors
from towpath.services import recorded_metrics as service
from towpath.storage.recorded_metrics import MetricFilter

router = APIRouter(prefix="/api/metrics", **ROUTER_OPTIONS)
Id = Annotated[str | None, Query(max_length=36)]
Name = Annotated[str | None, Query(max_length=100, description="Only metrics of this name")]


@router.get("/")
async def list_recorded_metrics(
    db: DB,
    caller: Viewer,
    task_id: Id = None,
    run_id: Id = None,
    name: Name = None,
    skip: Skip = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> RecordedMetricList:
    where = MetricFilter(task_id=task_id, run_id=run_id, name=name)
    found, total = await service.list_metrics(db, caller, where, skip, limit)
    items = [RecordedMetric.model_validate(metric) for metric in found]
    return RecordedMetricList(items=items, total=total, skip=skip, limit=limit)


@router.get("/{metric_id}", responses=errors(404))
async def get_recorded_metric(metric_id: str, db: DB, caller: Viewer) -> RecordedMetric:
    return RecordedMetric.model_validate(await service.get_metric(db, caller, metric_id))


@router.get("/task/{task_id}/summary", responses=errors(404))
async def summarize_task_metrics(task_id: str, db: DB, caller: Viewer) -> RecordedMetricsSummary:
    """Per metric name over every run of the task: count, min, max, avg and the last value."""
    found = await service.task_summary(db, caller, task_id)
    items = [RecordedMetricSummary.model_validate(summary) for summary in found]
    return RecordedMetricsSummary(task_id=task_id, metrics=items)


@router.get("/run/{run_id}/summary", responses=errors(404))
async def summarize_run_metrics(run_id: str, db: DB, caller: Viewer) -> RecordedMetricsSummary:
    """Per metric name over the run: count, min, max, avg and the last value."""
    found = await service.run_summary(db, caller, run_id)
    items = [RecordedMetricSummary.model_validate(summary) for summary in found]
    return RecordedMetricsSummary(run_id=run_id, metrics=items)
