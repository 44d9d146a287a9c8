"""The inbox: waiting steps the caller may answer, and what each needs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from towpath.services.inbox import InboxItem

InboxType = Literal["approval", "clarification"]


class Vote(BaseModel):
    by: str
    approved: bool
    comment: str | None = None
    at: str


class ApprovalNeeds(BaseModel):
    """What an approval asks, and by which rules: POST /runs/{run_id}/approve answers it."""

    message: str
    approvers: list[str]
    groups: dict[str, list[str]] = Field(
        description="The members of each group the approvers name, as the step began to wait"
    )
    quorum: int
    rule: str
    votes: list[Vote]
    escalated: bool


class ClarificationNeeds(BaseModel):
    """The questions to answer through POST /runs/{run_id}/clarify."""

    questions: list[dict[str, Any]]


class InboxItemResponse(BaseModel):
    run_id: str
    workflow_id: str
    workflow_name: str
    step_id: str
    type: InboxType
    waiting_since: datetime | None
    deadline_at: datetime | None = Field(
        description="When the step stops waiting unanswered (its timeout); null: never"
    )
    approval: ApprovalNeeds | None = None
    clarification: ClarificationNeeds | None = None

    @classmethod
    def of(cls, item: InboxItem) -> InboxItemResponse:
        step, state = item.step, item.step.state
        approval = clarification = None
        if step.step_type == "approval":
            approval = ApprovalNeeds(
                message=str(state.get("message", "")),
                approvers=state.get("approvers") or [],
                groups=state.get("groups") or {},
                quorum=state.get("quorum", 1),
                rule=state.get("rule", "unanimous"),
                votes=state.get("votes") or [],
                escalated=bool(state.get("escalated")),
            )
        else:
            clarification = ClarificationNeeds(questions=state.get("questions") or [])
        return cls(
            run_id=step.run_id,
            workflow_id=step.workflow_id,
            workflow_name=step.workflow_name,
            step_id=step.step_id,
            type="approval" if approval is not None else "clarification",
            waiting_since=step.waiting_since,
            deadline_at=item.deadline_at,
            approval=approval,
            clarification=clarification,
        )


class InboxCount(BaseModel):
    count: int
