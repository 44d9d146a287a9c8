"""Statistics: a workflow's runs over a time window, and one run's steps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from towpath.api.deps import DB, Paging, Viewer
from towpath.api.responses import set_total
from towpath.api.schemas.stats import (
    RunMetricsResponse,
    WorkflowStatsResponse,
    run_metrics_response,
    stats_response,
)
from towpath.services import stats as service

router = APIRouter(tags=["stats"])
Moment = Annotated[AwareDatetime | None, Query(description="ISO 8601, with an offset")]


@router.get("/workflows/{workflow_id}/stats")
async def workflow_stats(
    workflow_id: str, db: DB, caller: Viewer, since: Moment = None, until: Moment = None
) -> WorkflowStatsResponse:
    span = service.window(since, until)
    found = await service.workflow_stats(db, caller, workflow_id, span)
    return stats_response(workflow_id, span, found)


@router.get("/runs/{run_id}/metrics")
async def run_metrics(
    run_id: str, db: DB, caller: Viewer, page: Paging, response: Response
) -> RunMetricsResponse:
    found = await service.run_metrics(db, caller, run_id, page)
    set_total(response, found.steps)
    return run_metrics_response(found)
