"""`/api/runs/`: a task's runs, started, read, changed, approved, deleted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from towpath.api.deps import DB, Admin, Operator, Rules, RuntimeDep, Viewer
from towpath.api.profiles.tasks import run_changes
from towpath.api.profiles.tasks.routing import (
    DEFAULT_LIMIT,
    ROUTER_OPTIONS,
    InvalidParameter,
    Limit,
    Skip,
)
from towpath.api.profiles.tasks.schemas import (
    Deleted,
    TaskRunApproval,
    TaskRunCreate,
    TaskRunList,
    TaskRunLogLine,
    TaskRunLogs,
    TaskRunResponse,
    TaskRunUpdate,
    run_response,
)
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.services import runs, tasks
from towpath.storage.tasks import TaskNotFound

router = APIRouter(prefix="/api/runs", **ROUTER_OPTIONS)
TaskFilter = Annotated[str | None, Query(max_length=36, description="Only this task's runs")]


@router.get("/")
async def list_task_runs(
    db: DB,
    caller: Viewer,
    task_id: TaskFilter = None,
    skip: Skip = 0,
    limit: Limit = DEFAULT_LIMIT,
) -> TaskRunList:
    """Runs, newest first; an unknown `task_id` has none."""
    try:
        found, total = await tasks.list_task_runs(db, caller, skip, limit, task_id)
    except TaskNotFound:
        found, total = [], 0
    items = [run_response(run, {}) for run in found]
    return TaskRunList(items=items, total=total, skip=skip, limit=limit)


@router.post("/", status_code=201, responses={**WITH_BODY, **errors(404)})
async def start_task_run(
    body: TaskRunCreate, runtime: RuntimeDep, caller: Operator, rules: Rules
) -> TaskRunResponse:
    """Starts a run of the task; it goes on in the background (watch `/ws/runs/{id}`). An
    unknown `task_id` is a 400 `INVALID_PARAMETER`, as the document's invalid reference."""
    try:
        return run_response(*await tasks.start_task_run(runtime, caller, rules, body.task_id))
    except TaskNotFound as missing:
        raise InvalidParameter(missing.message, details=missing.details) from missing


@router.get("/{run_id}", responses=errors(404))
async def get_task_run(run_id: str, runtime: RuntimeDep, caller: Viewer) -> TaskRunResponse:
    return run_response(*await runs.get(runtime, caller, run_id))


@router.patch("/{run_id}", responses={**WITH_BODY, **errors(404)})
async def update_task_run(
    run_id: str, body: TaskRunUpdate, runtime: RuntimeDep, caller: Operator
) -> TaskRunResponse:
    """`cancelled` cancels the run, `pending` (or `paused`) holds it, `running` lets a held
    run go on; the status the run already has changes nothing."""
    return run_response(*await run_changes.set_status(runtime, caller, run_id, body.status))


@router.delete("/{run_id}", responses=errors(404))
async def delete_task_run(run_id: str, runtime: RuntimeDep, caller: Admin) -> Deleted:
    """Deletes the run with its steps, logs and metrics; a run still in flight is
    cancelled first. Needs the admin role, as `DELETE /api/v1/runs/{id}`."""
    await run_changes.delete(runtime, caller, run_id)
    return Deleted(id=run_id)


@router.post("/{run_id}/approve", responses={**WITH_BODY, **errors(404)})
async def approve_task_run(
    run_id: str, body: TaskRunApproval, runtime: RuntimeDep, caller: Operator
) -> TaskRunResponse:
    """Approves or rejects the plan the run waits on; a rejection stops the run."""
    decided = await runs.approve(runtime, caller, run_id, None, body.approved, body.feedback)
    return run_response(*decided)


@router.get("/{run_id}/logs", responses=errors(404))
async def list_task_run_logs(
    run_id: str, db: DB, caller: Viewer, skip: Skip = 0, limit: Limit = DEFAULT_LIMIT
) -> TaskRunLogs:
    found, total = await tasks.run_logs(db, caller, run_id, skip, limit)
    items = [TaskRunLogLine.model_validate(line) for line in found]
    return TaskRunLogs(run_id=run_id, items=items, total=total, skip=skip, limit=limit)
