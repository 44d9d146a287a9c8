"""Run requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from towpath.api.schemas.strict import RequestModel
from towpath.domain import states
from towpath.services.idempotency import KEY_SCHEMA

# The largest number a database column of ours holds (BIGINT): no seq or id is beyond it.
SEQ_MAX = 2**63 - 1

R = states.RunStatus
S = states.StepStatus
# Literals, not the enums, so the OpenAPI document lists the values in place.
RunStatus = Literal[R.PENDING, R.RUNNING, R.WAITING, R.COMPLETED, R.FAILED, R.CANCELLED]
StepStatus = Literal[
    S.PENDING,
    S.QUEUED,
    S.RUNNING,
    S.WAITING,
    S.RETRYING,
    S.COMPLETED,
    S.FAILED,
    S.SKIPPED,
    S.CANCELLED,
]

# Held to the header's rule where both are read (`one_key`), so either place gets one error.
IdempotencyKey = Annotated[str, Field(json_schema_extra=KEY_SCHEMA)]


class RunInput(RequestModel):
    input: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: IdempotencyKey | None = Field(
        default=None,
        description="As X-Idempotency-Key, which may be sent instead; if both, the same key.",
    )


class RunResponse(BaseModel):
    id: str
    workflow_id: str
    status: RunStatus
    trigger_type: str
    input: dict[str, Any]
    # Each completed step's output under its node id.
    context: dict[str, Any]
    error: str | None
    idempotency_key: str | None
    parent_run_id: str | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # The run this one's tree started from (itself for a run started by hand or by a
    # trigger), and how many sub_workflow levels below it this run is.
    root_run_id: str | None = None
    depth: int = 0
    # The trigger that started the run (a webhook or event trigger's id), if one did.
    trigger_id: str | None = None
    # The tick a schedule started the run for, if one did.
    scheduled_at: datetime | None = None
    # Every version of the run's workflow shares it: `GET /runs?lineage_id=` lists them.
    lineage_id: str | None = None


class RunSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    workflow_id: str
    status: RunStatus
    trigger_type: str
    error: str | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    trigger_id: str | None = None
    lineage_id: str | None = None


class StepRunResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    step_id: str
    step_type: str
    item_index: int | None
    status: StepStatus
    attempt: int
    attempts: list[dict[str, Any]]
    input: Any
    output: Any
    error: str | None
    handle: str | None
    # What a waiting step waits for: the approval message, the questions.
    request: dict[str, Any] | None
    started_at: datetime | None
    completed_at: datetime | None


class RunEventResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    event_type: str
    step_id: str | None
    data: dict[str, Any]
    timestamp: datetime = Field(validation_alias="created_at")


class RunLogResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    step_id: str | None
    level: str
    message: str
    timestamp: datetime = Field(validation_alias="created_at")


class ResumeInput(RequestModel):
    step_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class ApproveInput(RequestModel):
    step_id: str | None = None
    approved: bool
    comment: str | None = Field(default=None, max_length=10_000)


class ClarifyInput(RequestModel):
    step_id: str | None = None
    answers: dict[str, Any]


class CancelInput(RequestModel):
    reason: str | None = Field(default=None, max_length=2_000)


def run_response(run: Any, context: dict[str, Any]) -> RunResponse:
    fields = {
        name: getattr(run, name)
        for name in RunResponse.model_fields
        if name not in ("context", "scheduled_at")
    }
    # A run row without the column answers null: runs read as `RunRow` do not carry it yet.
    scheduled_at = getattr(run, "scheduled_at", None)
    return RunResponse(**fields, context=context, scheduled_at=scheduled_at)


def step_run_response(row: Any) -> StepRunResponse:
    state = row.state if isinstance(row.state, dict) else None
    return StepRunResponse(
        id=row.id,
        step_id=row.step_id,
        step_type=row.step_type,
        item_index=None if row.item_index < 0 else row.item_index,
        status=row.status,
        attempt=row.attempt,
        attempts=row.attempts or [],
        input=row.input,
        output=row.output,
        error=row.error,
        handle=row.handle,
        request=state if row.status == S.WAITING else None,
        started_at=row.started_at,
        completed_at=row.completed_at,
    )


class CancelledRun(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    workflow_id: str
    parent_run_id: str | None
    depth: int


class RunTreeCancelResponse(BaseModel):
    # The run asked for, as it is now: cancelled, or as it had ended before.
    run: RunResponse
    # Every run this request cancelled: the run itself if it still lived, and each live
    # run below it, whether a step waited for it or not.
    cancelled: list[CancelledRun]
