"""The bodies of document 004: tasks, runs, metrics, and the lists that page them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from towpath.api.schemas.strict import RequestModel, whole

if TYPE_CHECKING:
    from towpath.storage.tasks import TaskView

T = TypeVar("T")

TaskStatus = Literal["pending", "running", "completed", "failed", "cancelled", "timeout"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=10_000)]
# The bounds before the whole-number rule, so the document names them as JSON Schema does.
Rounds = Annotated[Annotated[int, Field(ge=1, le=100)], BeforeValidator(whole)]


class TaskCreate(RequestModel):
    name: Name
    description: Description = ""
    max_rounds: Rounds = 5
    # Not in the document: make the task over this workflow's lineage, not the template.
    workflow_id: str | None = Field(
        default=None,
        max_length=36,
        description="An existing workflow (any version) to make the task of, instead of the"
        " built-in task workflow.",
    )


class TaskUpdate(RequestModel):
    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    max_rounds: Rounds | SkipJsonSchema[None] = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, value: Any) -> Any:
        if isinstance(value, dict):
            nulls = [name for name, given in value.items() if given is None]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} may be left out, not set to null")
        return value


class TaskResponse(BaseModel):
    id: str
    name: str
    description: str
    max_rounds: int
    status: TaskStatus
    # The task's workflow lineage: `GET /api/v1/workflows/{workflow_id}` edits it.
    workflow_id: str
    total_runs: int
    successful_runs: int
    failed_runs: int
    success_rate: float
    created_at: datetime
    updated_at: datetime


def task_response(view: TaskView) -> TaskResponse:
    task = view.task
    return TaskResponse(
        id=task.id,
        name=task.name,
        description=task.description,
        max_rounds=task.max_rounds,
        status=view.status,
        workflow_id=task.id,
        total_runs=view.total_runs,
        successful_runs=view.successful_runs,
        failed_runs=view.failed_runs,
        success_rate=view.success_rate,
        created_at=task.created_at,
        updated_at=task.updated_at,
    )


class TaskRunCreate(RequestModel):
    task_id: str = Field(min_length=1, max_length=36)


class TaskRunUpdate(RequestModel):
    status: TaskStatus | Literal["paused"] = Field(
        description="`cancelled` cancels the run, `pending` (or `paused`) holds it,"
        " `running` lets a held run go on; the status the run has already changes"
        " nothing, and `completed`, `failed` or `timeout` is otherwise a 400."
    )


class Deleted(BaseModel):
    """What a delete answers (200): the document names 201 and 404, and no empty answer."""

    id: str
    deleted: bool = True


class TaskRunApproval(RequestModel):
    approved: bool
    feedback: Annotated[str, Field(max_length=10_000)] | None = None


class TaskRunResponse(BaseModel):
    id: str
    task_id: str | None
    workflow_id: str
    status: TaskStatus
    # The plan step's text, once there is one.
    plan: str | None
    results: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


def doc_run_status(status: str, error: str | None) -> TaskStatus:
    """Mirrors `storage.tasks.run_status`, for one run in hand."""
    if status in ("pending", "paused"):
        return "pending"
    if status in ("running", "waiting"):
        return "running"
    if status == "failed" and error is not None and "timeout" in error:
        return "timeout"
    return status  # type: ignore[return-value]


def run_response(run: Any, context: dict[str, Any]) -> TaskRunResponse:
    plan = context.get("plan")
    return TaskRunResponse(
        id=run.id,
        task_id=run.lineage_id,
        workflow_id=run.workflow_id,
        status=doc_run_status(run.status, run.error),
        plan=plan.get("text") if isinstance(plan, dict) else None,
        results=context,
        error=run.error,
        created_at=run.created_at,
        started_at=run.started_at,
        completed_at=run.completed_at,
    )


class TaskRunLogLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step_id: str | None
    level: str
    message: str
    timestamp: datetime = Field(validation_alias="created_at")


class RecordedMetric(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    value: float
    task_id: str | None = Field(validation_alias="lineage_id")
    run_id: str
    step_id: str | None
    # `step` (a step reported it) or `engine` (towpath measured it).
    source: str
    timestamp: datetime = Field(validation_alias="created_at")


class RecordedMetricSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    count: int
    min: float
    max: float
    avg: float
    last: float


class RecordedMetricsSummary(BaseModel):
    task_id: str | None = None
    run_id: str | None = None
    metrics: list[RecordedMetricSummary]


class ListResponse(BaseModel, Generic[T]):
    items: list[T]
    total: int
    skip: int
    limit: int


class TaskListResponse(ListResponse[TaskResponse]):
    pass


class TaskRunList(ListResponse[TaskRunResponse]):
    pass


class TaskRunLogs(ListResponse[TaskRunLogLine]):
    run_id: str


class RecordedMetricList(ListResponse[RecordedMetric]):
    pass
