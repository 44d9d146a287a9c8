"""The paths the document's front-end client calls where its API has others: starting a
run of a workflow, and listing a workflow's runs. Each is towpath's own route under
another path, with the same body, answers and roles."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from towpath.api.deps import DB, Idempotency, Operator, Rules, RuntimeDep, Viewer, current_principal
from towpath.api.responses import LISTED
from towpath.api.routes import runs
from towpath.api.schemas.errors import AUTHENTICATED, WITH_BODY, errors
from towpath.api.schemas.runs import RunInput, RunResponse, RunStatus, RunSummary
from towpath.services import workflows

router = APIRouter(
    tags=["profile: frontend"], dependencies=[Depends(current_principal)], responses=AUTHENTICATED
)


@router.post(
    "/api/v1/runs/workflow/{workflow_id}/trigger",
    status_code=201,
    responses={**runs.STARTED, **WITH_BODY, **errors(404, 409)},
)
async def trigger_workflow_run(
    workflow_id: str,
    runtime: RuntimeDep,
    caller: Operator,
    rules: Rules,
    key: Idempotency,
    response: Response,
    body: RunInput | None = None,
) -> RunResponse:
    """`POST /api/v1/workflows/{id}/run` under the front end's path; the body may be left
    out (no input). An idempotency key replays the run either path started."""
    body = body or RunInput()
    return await runs.start_run(
        workflow_id, body, runtime=runtime, caller=caller, rules=rules, key=key, response=response
    )


@router.get("/api/v1/runs/workflow/{workflow_id}", responses={**LISTED, **errors(404)})
async def list_workflow_runs(
    workflow_id: str,
    db: DB,
    runtime: RuntimeDep,
    caller: Viewer,
    page: runs.RunPages,
    response: Response,
    status: RunStatus | None = None,
) -> list[RunSummary]:
    """`GET /api/v1/runs?workflow_id={id}` under the front end's path; an unknown
    workflow is a 404, not an empty list."""
    await workflows.get_workflow(db, caller, workflow_id)
    return await runs.list_runs(
        runtime, caller, page, response, workflow_id=workflow_id, status=status
    )
