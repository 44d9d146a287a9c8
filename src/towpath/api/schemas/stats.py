"""Statistics responses: a workflow's runs over a window, one run's steps."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from towpath.api.schemas.runs import RunStatus, StepStatus
from towpath.domain import states

if TYPE_CHECKING:
    from towpath.services.stats import RunMetrics, Window
    from towpath.storage.stats import WorkflowStats


class Durations(BaseModel):
    # Runs that finished (completed, failed or cancelled after starting) in the window.
    count: int
    min: float | None
    avg: float | None
    p95: float | None
    max: float | None


class WorkflowStatsResponse(BaseModel):
    workflow_id: str
    since: datetime
    until: datetime
    total_runs: int
    by_status: dict[str, int]
    success_rate: float | None = Field(description="completed / (completed + failed)")
    duration_seconds: Durations


class Tokens(BaseModel):
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None


class StepMetrics(Tokens):
    step_id: str
    # A for_each item's index; None for the step itself.
    item_index: int | None
    step_type: str
    status: StepStatus
    attempts: int
    # From the step run's creation to the start of its latest attempt.
    queued_seconds: float | None
    # The latest attempt, from its start to the step's end.
    duration_seconds: float | None


class RunMetricsResponse(BaseModel):
    run_id: str
    status: RunStatus
    duration_seconds: float | None
    steps_total: int
    attempts_total: int
    tokens: Tokens
    # A page of the run's step runs (`page`, `per_page`; the total is in X-Total-Count).
    steps: list[StepMetrics]


def stats_response(workflow_id: str, span: Window, found: WorkflowStats) -> WorkflowStatsResponse:
    counts = found.by_status
    ended = counts.get(states.RunStatus.COMPLETED, 0) + counts.get(states.RunStatus.FAILED, 0)
    d = found.durations
    return WorkflowStatsResponse(
        workflow_id=workflow_id,
        since=span.since,
        until=span.until,
        total_runs=sum(counts.values()),
        by_status=counts,
        success_rate=round(counts.get(states.RunStatus.COMPLETED, 0) / ended, 6) if ended else None,
        duration_seconds=Durations(count=d.count, min=d.min, avg=d.avg, p95=d.p95, max=d.max),
    )


def run_metrics_response(found: RunMetrics) -> RunMetricsResponse:
    totals = found.totals
    return RunMetricsResponse(
        run_id=found.run.id,
        status=found.run.status,
        duration_seconds=found.duration_seconds,
        steps_total=totals["steps"],
        attempts_total=totals["attempts"],
        tokens=Tokens(**{name: totals[name] for name in Tokens.model_fields}),
        steps=[
            StepMetrics(
                **{**row, "item_index": None if row["item_index"] < 0 else row["item_index"]}
            )
            for row in found.steps.items
        ],
    )
