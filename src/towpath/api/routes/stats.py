"""Statistics: a workflow's runs over a time window, and one run's steps."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from towpath.api.deps import DB, Viewer
from towpath.api.paging import paging
from towpath.api.responses import TOTAL_HEADERS, set_total
from towpath.api.schemas.errors import Responses, errors
from towpath.api.schemas.links import described
from towpath.api.schemas.stats import (
    RunMetricsResponse,
    WorkflowStatsResponse,
    run_metrics_response,
    stats_response,
)
from towpath.api.schemas.strict import MOMENT_RULE, Moment
from towpath.services import stats as service
from towpath.storage.pagination import PageRequest

router = APIRouter(tags=["stats"])
Since = Annotated[
    Moment | None,
    Query(description=f"The window's start: {MOMENT_RULE}; by default 7 days before `until`"),
]
Until = Annotated[
    Moment | None,
    Query(description=f"The window's end, not in it: {MOMENT_RULE}; by default now"),
]
Versions = Annotated[
    Literal["one", "all"],
    Query(
        description="`one`: the runs of this version only; `all`: of every version of"
        " its workflow (its lineage)"
    ),
]
# The step runs' columns a run's metrics sort by (storage.stats.step_metrics).
StepPages = Annotated[
    PageRequest, paging(("created_at", "step_id", "duration_seconds"), "created_at")
]

METRICS: Responses = {
    200: described("The run's totals and one page of its steps", headers=TOTAL_HEADERS)
}


@router.get("/workflows/{workflow_id}/stats", responses=errors(400, 404))
async def get_workflow_stats(
    workflow_id: str,
    db: DB,
    caller: Viewer,
    since: Since = None,
    until: Until = None,
    versions: Versions = "one",
) -> WorkflowStatsResponse:
    """Runs created in the window; `since` after `until` is a 400, `since` equal to
    `until` an empty window. `versions=all` counts the runs of every version of the
    workflow `workflow_id` is a version of (any version's id names the same lineage)."""
    span = service.window(since, until)
    lineage = versions == "all"
    found = await service.workflow_stats(db, caller, workflow_id, span, lineage=lineage)
    return stats_response(workflow_id, span, found)


@router.get("/runs/{run_id}/metrics", responses={**METRICS, **errors(404)})
async def get_run_metrics(
    run_id: str, db: DB, caller: Viewer, page: StepPages, response: Response
) -> RunMetricsResponse:
    found = await service.run_metrics(db, caller, run_id, page)
    set_total(response, found.steps)
    return run_metrics_response(found)
