"""The document's HTTP routes: start, list, read, resume, cancel, accept, clarify."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Response

from towpath.api.deps import Idempotency, Operator, Rules, RuntimeDep, Viewer
from towpath.api.profiles.executions import listing
from towpath.api.profiles.executions.answers import typed_answers
from towpath.api.profiles.executions.errors import COMMON, WITH_BODY, ExecutionsRoute
from towpath.api.profiles.executions.schemas import (
    AcceptanceRequest,
    ClarificationRequest,
    ExecutionResponse,
    ExecutionStatus,
    StartWorkflowRequest,
    StatusFilter,
    execution_response,
)
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.errors import errors
from towpath.services import run_pauses, run_views
from towpath.services import runs as service
from towpath.storage.runs import RunNotFound

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.runtime import Runtime

router = APIRouter(prefix="/api/v1", responses=COMMON, route_class=ExecutionsRoute)
ACTION = {**errors(404, 409), 200: {"description": "The execution after the change"}}


@router.post(
    "/workflows/{workflow_id}/start",
    status_code=201,
    responses={**WITH_BODY, **errors(404, 409), 200: {"description": "A replayed start"}},
)
async def start_execution(
    workflow_id: str,
    body: StartWorkflowRequest,
    runtime: RuntimeDep,
    caller: Operator,
    rules: Rules,
    key: Idempotency,
    response: Response,
) -> ExecutionResponse:
    """Start an execution of a published workflow (version) in a project. With
    X-Idempotency-Key, a start sent again answers the first execution (200)."""
    run, _, replayed = await service.start(
        runtime,
        caller,
        workflow_id,
        body.initial_context or {},
        key,
        rules.idempotency,
        project_id=body.project_id,
    )
    mark_created(response, replayed)
    return await _execution(runtime, caller, run.id)


@router.get("/executions", responses=LISTED)
async def list_executions(
    runtime: RuntimeDep,
    caller: Viewer,
    page: listing.Pages,
    response: Response,
    status: ExecutionStatus | None = None,
    workflow_id: Annotated[str | None, Query(description="Only this workflow's")] = None,
    project_id: Annotated[str | None, Query(description="Only this project's")] = None,
) -> list[ExecutionResponse]:
    """Every execution that matches, newest first, unless `page`/`per_page` ask for a page."""
    wanted = StatusFilter(status) if status else None
    found = await listing.list_views(
        page,
        runtime,
        caller,
        workflow_id=workflow_id,
        project_id=project_id,
        status=wanted.status if wanted else None,
        waiting_on=wanted.waiting_on if wanted else None,
        not_waiting_on=wanted.not_waiting_on if wanted else (),
    )
    set_total(response, found)
    return [execution_response(view) for view in found.items]


@router.get("/executions/{execution_id}", responses=errors(404))
async def get_execution(
    execution_id: str, runtime: RuntimeDep, caller: Viewer
) -> ExecutionResponse:
    return await _execution(runtime, caller, execution_id)


@router.get("/workflows/{workflow_id}/executions/{execution_id}", responses=errors(404))
async def get_workflow_execution(
    workflow_id: str, execution_id: str, runtime: RuntimeDep, caller: Viewer
) -> ExecutionResponse:
    """An execution of this workflow: its version's id, or any version's lineage id."""
    view = await run_views.run_view(runtime, caller, execution_id)
    if workflow_id not in (view.run.workflow_id, view.run.lineage_id):
        raise RunNotFound(execution_id)
    return execution_response(view)


@router.post("/executions/{execution_id}/resume", responses=ACTION)
async def resume_execution(
    execution_id: str, runtime: RuntimeDep, caller: Operator
) -> ExecutionResponse:
    """Resume a paused execution; any other state is a 400. An execution waiting for an
    acceptance or a clarification goes on when it is answered."""
    await run_pauses.unpause(runtime, caller, execution_id)
    return await _execution(runtime, caller, execution_id)


@router.post("/executions/{execution_id}/cancel", responses=ACTION)
async def cancel_execution(
    execution_id: str, runtime: RuntimeDep, caller: Operator
) -> ExecutionResponse:
    await service.cancel(runtime, caller, execution_id, None)
    return await _execution(runtime, caller, execution_id)


@router.post("/executions/{execution_id}/acceptance", responses={**ACTION, **WITH_BODY})
async def submit_acceptance(
    execution_id: str, body: AcceptanceRequest, runtime: RuntimeDep, caller: Operator
) -> ExecutionResponse:
    await service.approve(runtime, caller, execution_id, None, body.accepted, body.comment)
    return await _execution(runtime, caller, execution_id)


@router.post("/executions/{execution_id}/clarification", responses={**ACTION, **WITH_BODY})
async def submit_clarification(
    execution_id: str, body: ClarificationRequest, runtime: RuntimeDep, caller: Operator
) -> ExecutionResponse:
    """Each text answer is read as its question's type (number, boolean, choice, ...); a
    text that is not one is a 400 INVALID_ANSWER."""
    asked = await _execution(runtime, caller, execution_id)
    questions = asked.pending_clarification.questions if asked.pending_clarification else []
    answers = typed_answers(body.answers, questions)
    await service.clarify(runtime, caller, execution_id, None, answers)
    return await _execution(runtime, caller, execution_id)


async def _execution(runtime: Runtime, caller: Principal, execution_id: str) -> ExecutionResponse:
    return execution_response(await run_views.run_view(runtime, caller, execution_id))
