"""The paths the document's front-end client calls where its API has others: starting a
run of a workflow, and listing a workflow's runs. Each is towpath's own route under
another path, with the same body and roles, answering the document's `RunResponse` and
its error bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Response

from towpath.api.deps import DB, Idempotency, Operator, Rules, RuntimeDep, Viewer, current_principal
from towpath.api.profiles.frontend import moments
from towpath.api.profiles.frontend.errors import FrontendRoute, detailed
from towpath.api.profiles.frontend.schemas import (
    FrontRun,
    FrontRunStatus,
    front_run,
    towpath_status,
)
from towpath.api.responses import LISTED, set_total
from towpath.api.routes import runs
from towpath.api.schemas.runs import RunInput
from towpath.services import runs as service
from towpath.services import workflows
from towpath.storage.runs import outputs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from towpath.api.schemas.errors import Responses
    from towpath.engine.runtime import Runtime
    from towpath.storage.rows import RunRow

router = APIRouter(
    tags=["profile: frontend"],
    dependencies=[Depends(current_principal)],
    responses=detailed(401, 403, 422, 429, 500),
    route_class=FrontendRoute,
)
STARTED: Responses = {
    201: {"description": "The run, started"},
    200: {
        "model": FrontRun,
        "description": "The run an earlier request with this idempotency key started",
    },
}


@router.post(
    "/api/v1/runs/workflow/{workflow_id}/trigger",
    status_code=201,
    responses={**STARTED, **detailed(400, 404, 409, 413, 415)},
)
async def trigger_workflow_run(
    workflow_id: str,
    runtime: RuntimeDep,
    caller: Operator,
    rules: Rules,
    key: Idempotency,
    response: Response,
    body: RunInput | None = None,
) -> FrontRun:
    """`POST /api/v1/workflows/{id}/run` under the front end's path; the body may be left
    out (no input). An idempotency key replays the run either path started."""
    body = body or RunInput()
    started = await runs.start_run(
        workflow_id, body, runtime=runtime, caller=caller, rules=rules, key=key, response=response
    )
    return front_run(started, started.context)


@router.get("/api/v1/runs/workflow/{workflow_id}", responses={**LISTED, **detailed(404)})
async def list_workflow_runs(
    workflow_id: str,
    db: DB,
    runtime: RuntimeDep,
    caller: Viewer,
    page: runs.RunPages,
    response: Response,
    status: FrontRunStatus | None = None,
    since: moments.Since = None,
    until: moments.Until = None,
) -> list[FrontRun]:
    """`GET /api/v1/runs?workflow_id={id}` under the front end's path, each run whole
    (input and context); an unknown workflow is a 404, not an empty list."""
    await workflows.get_workflow(db, caller, workflow_id)
    found = await service.list_runs(
        runtime,
        caller,
        page,
        workflow_id=workflow_id,
        status=towpath_status(status),
        since=since,
        until=until,
    )
    set_total(response, found)
    return await _whole(runtime, found.items)


async def _whole(runtime: Runtime, listed: Sequence[RunRow]) -> list[FrontRun]:
    async with runtime.db.read() as session:
        return [front_run(run, await outputs(session, run.id)) for run in listed]
