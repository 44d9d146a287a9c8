"""The document's request and response models, and the run as its `ExecutionResponse`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from pydantic import BaseModel, Field

from towpath.api.schemas.runs import ProjectId
from towpath.api.schemas.strict import RequestModel
from towpath.domain.states import RunStatus, StepStatus

if TYPE_CHECKING:
    from towpath.services.run_views import RunView, StepNow

ExecutionStatus = Literal[
    "pending",
    "running",
    "waiting_acceptance",
    "waiting_clarification",
    "waiting",
    "paused",
    "completed",
    "failed",
    "cancelled",
]
# The waiting statuses the document names, by the step type a run waits on; a run that
# waits on both an acceptance and a clarification is `waiting_acceptance`.
WAITING_ON: Final = {"waiting_acceptance": "approval", "waiting_clarification": "clarification"}


class StatusFilter:
    """What `?status=` asks of the runs: towpath's status, and which waiting steps."""

    def __init__(self, status: ExecutionStatus) -> None:
        self.status: str = RunStatus.WAITING if status.startswith("waiting") else status
        self.waiting_on = WAITING_ON.get(status)
        self.not_waiting_on: tuple[str, ...] = ()
        if status == "waiting_clarification":
            self.not_waiting_on = ("approval",)
        elif status == "waiting":
            self.not_waiting_on = tuple(WAITING_ON.values())


class StartWorkflowRequest(RequestModel):
    project_id: ProjectId
    initial_context: dict[str, Any] | None = Field(
        default=None, description="The run's input, checked against the workflow's input_schema"
    )


class AcceptanceRequest(RequestModel):
    accepted: bool
    comment: str | None = Field(default=None, max_length=10_000)


class ClarificationRequest(RequestModel):
    answers: dict[str, str] = Field(description="question_id -> answer")


class AcceptancePending(BaseModel):
    step_id: str
    message: str | None = Field(description="What the person is asked to accept")
    requested_at: datetime | None
    deadline: datetime | None = Field(description="When the wait times out; null for never")
    request: dict[str, Any] = Field(
        description="Everything the step asks: its approvers, quorum and votes so far"
    )


class ClarificationPending(BaseModel):
    step_id: str
    questions: list[dict[str, Any]] = Field(
        description="Each question: its `id` (the key of its answer), label, type and rules"
    )
    requested_at: datetime | None
    deadline: datetime | None


class ExecutionResponse(BaseModel):
    execution_id: str
    workflow_id: str
    project_id: str = Field(description="Empty for a run started without a project")
    status: ExecutionStatus
    current_step_id: str | None = Field(
        description="The step executing now, else the step waiting; null when none is"
    )
    completed_steps: list[str] = Field(
        description="Completed steps, in the order they became ready"
    )
    pending_acceptance: AcceptancePending | None
    pending_clarification: ClarificationPending | None
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None


class ExecutionEvent(BaseModel):
    """One message of `WS /api/v1/ws/executions/{id}`."""

    event_type: str = Field(
        description="execution_status (first: `data` is the ExecutionResponse), step_started,"
        " step_completed, step_failed, waiting_acceptance, waiting_clarification,"
        " acceptance_accepted, acceptance_rejected, clarification_submitted,"
        " execution_started, execution_completed, execution_failed, execution_cancelled,"
        " heartbeat; any other towpath event with `_` for `.` (step_queued)"
    )
    step_id: str | None
    timestamp: datetime
    data: dict[str, Any]
    execution_id: str | None = None
    seq: int | None = Field(default=None, description="The towpath event's seq in its run")


def execution_status(view: RunView) -> ExecutionStatus:
    status = view.run.status
    if status != RunStatus.WAITING:
        # Every other status of a run has the same name here.
        return cast("ExecutionStatus", status)
    waiting = {s.step_type for s in view.waiting if s.status == StepStatus.WAITING}
    for name, step_type in WAITING_ON.items():
        if step_type in waiting:
            return cast("ExecutionStatus", name)
    return "waiting"


def execution_response(view: RunView) -> ExecutionResponse:
    run = view.run
    current = view.running or view.waiting
    return ExecutionResponse(
        execution_id=run.id,
        workflow_id=run.workflow_id,
        project_id=run.project_id or "",
        status=execution_status(view),
        current_step_id=current[0].step_id if current else None,
        completed_steps=list(view.context),
        pending_acceptance=_acceptance(_waiting(view, "approval")),
        pending_clarification=_clarification(_waiting(view, "clarification")),
        started_at=run.started_at,
        completed_at=run.completed_at,
        error=run.error,
    )


def _waiting(view: RunView, step_type: str) -> StepNow | None:
    return next(
        (s for s in view.waiting if s.step_type == step_type and s.status == StepStatus.WAITING),
        None,
    )


def _acceptance(step: StepNow | None) -> AcceptancePending | None:
    if step is None:
        return None
    request = step.request or {}
    message = request.get("message")
    return AcceptancePending(
        step_id=step.step_id,
        message=message if isinstance(message, str) else None,
        requested_at=step.since,
        deadline=step.deadline,
        request=request,
    )


def _clarification(step: StepNow | None) -> ClarificationPending | None:
    if step is None:
        return None
    questions = (step.request or {}).get("questions")
    return ClarificationPending(
        step_id=step.step_id,
        questions=questions if isinstance(questions, list) else [],
        requested_at=step.since,
        deadline=step.deadline,
    )
