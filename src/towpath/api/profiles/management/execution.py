"""`POST /api/v1/workflows/{id}/execute`: the document has no publishing, so a workflow is
executed as it is now, its newest version, published first if it is still a draft."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from towpath.api.deps import Idempotency, Operator, Rules, RuntimeDep, current_principal
from towpath.api.responses import mark_created
from towpath.api.routes.runs import STARTED
from towpath.api.schemas.errors import AUTHENTICATED, WITH_BODY, errors
from towpath.api.schemas.runs import IdempotencyKey, RunResponse, run_response
from towpath.api.schemas.strict import RequestModel
from towpath.domain.errors import RoleRequired, WorkflowPublished
from towpath.services import runs, workflows
from towpath.services.idempotency import one_key
from towpath.storage.pagination import PageRequest

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.services.workflows import WorkflowRules
    from towpath.storage.database import Database

router = APIRouter(
    tags=["profile: management"], dependencies=[Depends(current_principal)], responses=AUTHENTICATED
)
NEWEST = PageRequest(page=1, per_page=1, sort="-version")


class ExecuteInput(RequestModel):
    input_data: dict[str, Any] = Field(
        default_factory=dict,
        description="The run's input, checked against the workflow's input_schema",
    )
    idempotency_key: IdempotencyKey | None = Field(
        default=None,
        description="As X-Idempotency-Key, which may be sent instead; if both, the same key.",
    )


@router.post(
    "/api/v1/workflows/{workflow_id}/execute",
    status_code=201,
    responses={**STARTED, **WITH_BODY, **errors(404, 409)},
)
async def execute_workflow(
    workflow_id: str,
    runtime: RuntimeDep,
    caller: Operator,
    rules: Rules,
    key: Idempotency,
    response: Response,
    body: ExecuteInput | None = None,
) -> RunResponse:
    """Start a run of the workflow's newest version (any version's id names the
    workflow). A newest version that is a draft is published first, which needs the
    `editor` role and a definition that validates (422 WORKFLOW_INVALID)."""
    body = body or ExecuteInput()
    key = one_key(key, body.idempotency_key, f"POST /api/v1/workflows/{workflow_id}/execute")
    newest = await _published_newest(runtime.db, caller, workflow_id, rules)
    run, context, replayed = await runs.start(
        runtime, caller, newest, body.input_data, key, rules.idempotency
    )
    mark_created(response, replayed)
    return run_response(run, context)


async def _published_newest(
    db: Database, caller: Principal, workflow_id: str, rules: WorkflowRules
) -> str:
    """The id of the workflow's newest version, published now if it was a draft."""
    found = await workflows.list_versions(db, caller, workflow_id, NEWEST)
    newest = found.items[0]
    if newest.status == "draft":
        if not caller.has_role("editor"):
            raise RoleRequired("editor", caller.role)
        # Another request may have published it first: it is then as wanted.
        with contextlib.suppress(WorkflowPublished):
            await workflows.publish_workflow(db, caller, newest.id, rules)
    return newest.id
