"""`/api/tasks/`: a task is a workflow lineage made from the built-in task workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from towpath.api.deps import DB, Editor, Rules, Viewer
from towpath.api.profiles.tasks.routing import DEFAULT_LIMIT, ROUTER_OPTIONS, Limit, Skip
from towpath.api.profiles.tasks.schemas import (
    Deleted,
    TaskCreate,
    TaskListResponse,
    TaskResponse,
    TaskStatus,
    TaskUpdate,
    task_response,
)
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.services import tasks as service

router = APIRouter(prefix="/api/tasks", **ROUTER_OPTIONS)
Status = Annotated[TaskStatus | None, Query(description="Only tasks whose newest run is so")]


@router.get("/")
async def list_team_tasks(
    db: DB, caller: Viewer, status: Status = None, skip: Skip = 0, limit: Limit = DEFAULT_LIMIT
) -> TaskListResponse:
    found, total = await service.list_tasks(db, caller, skip, limit, [status] if status else [])
    items = [task_response(view) for view in found]
    return TaskListResponse(items=items, total=total, skip=skip, limit=limit)


@router.post("/", status_code=201, responses={**WITH_BODY, **errors(404)})
async def create_team_task(body: TaskCreate, db: DB, caller: Editor, rules: Rules) -> TaskResponse:
    fields = body.model_dump(exclude={"workflow_id"})
    return task_response(await service.create_task(db, caller, rules, fields, body.workflow_id))


@router.get("/{task_id}", responses=errors(404))
async def get_team_task(task_id: str, db: DB, caller: Viewer) -> TaskResponse:
    return task_response(await service.get_task(db, caller, task_id))


@router.patch("/{task_id}", responses={**WITH_BODY, **errors(404)})
async def update_team_task(task_id: str, body: TaskUpdate, db: DB, caller: Editor) -> TaskResponse:
    changes = body.model_dump(exclude_none=True)
    return task_response(await service.update_task(db, caller, task_id, changes))


@router.delete("/{task_id}", responses=errors(404))
async def delete_team_task(task_id: str, db: DB, caller: Editor) -> Deleted:
    """Forgets the task; its workflow and runs stay."""
    await service.delete_task(db, caller, task_id)
    return Deleted(id=task_id)
