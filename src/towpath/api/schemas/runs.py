"""Run requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from towpath.api.schemas.strict import RequestModel
from towpath.domain import states
from towpath.engine.admission import waiting_for
from towpath.engine.retry_plan import RetryPlan, RetryRequest
from towpath.services.idempotency import KEY_SCHEMA

if TYPE_CHECKING:
    from towpath.services.run_views import RunView

# The largest number a database column of ours holds (BIGINT): no seq or id is beyond it.
SEQ_MAX = 2**63 - 1

R = states.RunStatus
S = states.StepStatus
# Literals, not the enums, so the OpenAPI document lists the values in place.
RunStatus = Literal[R.PENDING, R.RUNNING, R.WAITING, R.COMPLETED, R.FAILED, R.CANCELLED, R.PAUSED]
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
    S.HELD,
]

ProjectId = Annotated[str, Field(min_length=1, max_length=200)]

# Held to the header's rule where both are read (`one_key`), so either place gets one error.
IdempotencyKey = Annotated[str, Field(json_schema_extra=KEY_SCHEMA)]


class RunInput(RequestModel):
    input: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: IdempotencyKey | None = Field(
        default=None,
        description="As X-Idempotency-Key, which may be sent instead; if both, the same key.",
    )
    project_id: ProjectId | None = Field(
        default=None,
        description="The project the run is for: `GET /runs?project_id=` lists its runs.",
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
    # Who started the run: the principal (`key:<id>`, a JWT subject), or for a sub-run
    # the principal its tree started with.
    triggered_by: str | None = None
    # Every version of the run's workflow shares it: `GET /runs?lineage_id=` lists them.
    lineage_id: str | None = None
    # What GET /runs/{id} adds (elsewhere empty, or null): see the classes at the end.
    steps_running: list[RunningStep] = Field(
        default_factory=list,
        description="The steps executing now, in the order they became ready (those made"
        " ready together, by node id); a for_each's items are not listed: their for_each"
        " waits for them.",
    )
    steps_waiting: list[WaitingStep] = Field(
        default_factory=list,
        description="The steps waiting, in the order they became ready (those made ready"
        " together, by node id), each with what it waits for.",
    )
    step_counts: StepCounts | None = Field(
        default=None, description="How many of the run's steps are in each status."
    )
    progress: RunProgress | None = Field(
        default=None, description="How far the run has got: steps done of those that will run."
    )
    # Its workflow's priority: workers take the steps of higher-priority runs first.
    priority: int = 0
    # What a pending run waits for before it starts: {"reason": "concurrency", "key"},
    # {"reason": "rate_limit"} or {"reason": "workflow_paused"}; null once it started.
    waiting_for: dict[str, Any] | None = None
    # The project it was started for, if its starter named one.
    project_id: str | None = None


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
    triggered_by: str | None = Field(default=None, validation_alias="created_by")
    lineage_id: str | None = None
    priority: int = 0
    # What a pending run waits for before it starts (see `RunResponse`).
    waiting_for: dict[str, Any] | None = None
    project_id: str | None = None


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


class RetryOverrides(RequestModel):
    input: dict[str, Any] | None = Field(
        default=None,
        description="The run's input from this retry on, checked against the workflow's"
        " input_schema (422 INPUT_INVALID)",
    )
    steps: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per node id, the step's input for the attempts of this retry: its config"
        " as rendered, used as it is (never rendered). Only for steps the retry runs again",
    )


class RetryInput(RequestModel):
    from_step: str | None = Field(
        default=None,
        max_length=128,
        description="Run this node and everything downstream of it again, on a failed,"
        " cancelled or completed run; the other steps keep their output. Without it a"
        " failed run's failed steps run again",
    )
    input_overrides: RetryOverrides | None = None
    to_latest: bool = Field(
        default=False,
        description="Move the run to the newest published version of its workflow's lineage"
        " (none newer: it stays on its own)",
    )

    def request(self) -> RetryRequest:
        overrides = self.input_overrides or RetryOverrides()
        return RetryRequest(
            from_step=self.from_step,
            run_input=overrides.input,
            step_inputs=overrides.steps,
            to_latest=self.to_latest,
        )


class RetryPlanResponse(BaseModel):
    """What a retry would do (`?dry_run=true`); nothing was changed."""

    run_id: str
    status: RunStatus
    workflow_id: str
    # The version the run would run on: its own, or with to_latest the newest one.
    target_workflow_id: str
    from_step: str | None
    # Steps that would run (again), in graph order, and steps that keep their output.
    run_again: list[str]
    keep: list[str]
    # Steps of the run that the target version has no node for.
    dropped: list[str]
    input_overrides: dict[str, Any]


def retry_plan_response(
    run: Any, target_workflow_id: str, plan: RetryPlan, request: RetryRequest
) -> RetryPlanResponse:
    return RetryPlanResponse(
        run_id=run.id,
        status=run.status,
        workflow_id=run.workflow_id,
        target_workflow_id=target_workflow_id,
        from_step=request.from_step,
        run_again=plan.run_again,
        keep=plan.keep,
        dropped=plan.dropped,
        input_overrides=request.overrides(),
    )


def run_response(run: Any, context: dict[str, Any]) -> RunResponse:
    fields = {
        name: getattr(run, name)
        for name in RunResponse.model_fields
        if name not in ("context", "scheduled_at", "triggered_by", "waiting_for", *_VIEW_FIELDS)
    }
    # A run row without the column answers null: runs read as `RunRow` do not carry it yet.
    scheduled_at = getattr(run, "scheduled_at", None)
    return RunResponse(
        **fields,
        context=context,
        scheduled_at=scheduled_at,
        triggered_by=getattr(run, "created_by", None),
        waiting_for=waiting_for(run),
    )


def run_summary(run: Any) -> RunSummary:
    """A run row as a list shows it. Not a validator of the model: FastAPI validates what a
    route returns once more, and a validator would run for every run of the page again."""
    summary = RunSummary.model_validate(run)
    summary.waiting_for = waiting_for(run)
    return summary


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


# --- the run as GET /runs/{id} shows it: its steps now, their counts, its progress ------

_VIEW_FIELDS = ("steps_running", "steps_waiting", "step_counts", "progress")


class RunningStep(BaseModel):
    step_id: str
    step_type: str
    attempt: int
    since: datetime | None = Field(description="When the attempt executing now started.")


class WaitingStep(BaseModel):
    step_id: str
    step_type: str
    status: StepStatus = Field(
        description="`waiting` for a person, an event, a callback, items or a child run;"
        " `queued` when parked on a timer (a delay); `retrying` before its next attempt."
    )
    attempt: int
    since: datetime | None = Field(
        description="When the execution that made it wait started (for a retry, when the"
        " failed attempt ended)."
    )
    waits_for: str = Field(
        description="decision (an approval), answers (a clarification), event, callback"
        " (an agent), items (a for_each), child_run (a sub_workflow), timer (a delay),"
        " retry, unpause (a step held while its run is paused), or resume (any other step,"
        " resumed by hand)."
    )
    request: dict[str, Any] | None = Field(
        default=None,
        description="What it needs, as GET /runs/{id}/steps shows under `request` and the"
        " run stream's snapshot under `waiting`: an approval's message, approvers, quorum"
        " and votes so far; a clarification's questions (the form); a delay's due time.",
    )
    deadline: datetime | None = Field(
        default=None,
        description="When the wait ends by itself: a timeout, a delay's due time, a"
        " retry's next attempt; null when it waits for ever.",
    )


class StepCounts(BaseModel):
    """Steps of the run (not items of a for_each) in each status."""

    pending: int = 0
    queued: int = 0
    running: int = 0
    waiting: int = 0
    retrying: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    # Ready while the run is paused: queued again when it is unpaused.
    held: int = 0


class RunProgress(BaseModel):
    done: int = Field(description="Steps that ended: completed, failed or cancelled.")
    total: int = Field(
        description="Steps that will run: the nodes of the workflow's graph not skipped;"
        " once the run has ended, the steps that ran (not skipped), as no other will."
    )
    fraction: float = Field(
        description="done / total, from 0 to 1 (1 for an ended run with no step)."
    )


def run_view_response(view: RunView) -> RunResponse:
    """The run with its steps now, their counts and its progress."""
    response = run_response(view.run, view.context)
    response.steps_running = [
        RunningStep(step_id=s.step_id, step_type=s.step_type, attempt=s.attempt, since=s.since)
        for s in view.running
    ]
    response.steps_waiting = [
        WaitingStep.model_validate(s, from_attributes=True) for s in view.waiting
    ]
    response.step_counts = StepCounts.model_validate(view.counts)
    ended = view.run.status in (R.COMPLETED, R.FAILED, R.CANCELLED)
    fraction = view.done / view.will_run if view.will_run else float(ended)
    response.progress = RunProgress(
        done=view.done, total=view.will_run, fraction=round(min(fraction, 1.0), 4)
    )
    return response


# RunResponse names the classes above before they exist: complete it, and what holds it.
RunResponse.model_rebuild()
RunTreeCancelResponse.model_rebuild()
