"""The document's `RunResponse`, with its run statuses: a run waiting for a person (and
one an operator paused) is `paused`, as the document's resume and cancel name it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from towpath.storage.rows import RunRow

FrontRunStatus = Literal["pending", "running", "paused", "completed", "failed", "cancelled"]
# towpath's run status -> the document's.
DOC_STATUS: dict[str, FrontRunStatus] = {"waiting": "paused"}


class FrontRun(BaseModel):
    id: str
    workflow_id: str
    status: FrontRunStatus = Field(description="`paused`: waiting for an approval (resume it)")
    trigger_type: str
    input: dict[str, Any]
    context: dict[str, Any] = Field(description="Each completed step's output under its id")
    error: str | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime


def front_run(run: RunRow | Any, context: dict[str, Any]) -> FrontRun:
    return FrontRun(
        id=run.id,
        workflow_id=run.workflow_id,
        status=DOC_STATUS.get(run.status, run.status),
        trigger_type=run.trigger_type,
        input=run.input or {},
        context=context,
        error=run.error,
        started_at=run.started_at,
        completed_at=run.completed_at,
        created_at=run.created_at,
    )


def towpath_status(status: FrontRunStatus | None) -> str | None:
    """The towpath status a `?status=` of the document's lists."""
    return "waiting" if status == "paused" else status
