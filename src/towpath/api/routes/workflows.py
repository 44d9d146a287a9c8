"""Workflow definitions: drafts, validation, publishing and versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from towpath.api.deps import DB, Editor, Idempotency, Rules, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.links import created_or_replayed, described, links
from towpath.api.schemas.workflows import (
    ValidationIssue,
    ValidationResponse,
    WorkflowCreate,
    WorkflowResponse,
    WorkflowStatus,
    WorkflowUpdate,
    WorkflowVersion,
)
from towpath.services import workflows as service
from towpath.storage.pagination import PageRequest
from towpath.storage.workflows import SORTABLE

router = APIRouter(prefix="/workflows", tags=["workflows"])
WorkflowPages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]
VersionPages = Annotated[PageRequest, paging(SORTABLE, "version")]

# What a client does next with a workflow it holds.
WORKFLOW_LINKS = links(
    "workflow_id",
    "get_workflow",
    "update_workflow",
    "delete_workflow",
    "validate_workflow",
    "publish_workflow",
    "duplicate_workflow",
    "list_workflow_versions",
    "start_run",
    "get_workflow_stats",
)
CREATED: Responses = {
    **created_or_replayed(
        "The new draft",
        "The draft an earlier request with this idempotency key made",
        WorkflowResponse,
        WORKFLOW_LINKS,
    ),
    **errors(409),
}
CHANGED: Responses = {200: described("The workflow after the change", with_links=WORKFLOW_LINKS)}


@router.get("", responses=LISTED)
async def list_workflows(
    db: DB,
    caller: Viewer,
    page: WorkflowPages,
    response: Response,
    status: Annotated[WorkflowStatus | None, Query()] = None,
) -> list[WorkflowResponse]:
    found = await service.list_workflows(db, caller, page, status)
    set_total(response, found)
    return [WorkflowResponse.model_validate(w) for w in found.items]


@router.post("", status_code=201, responses={**CREATED, **WITH_BODY})
async def create_workflow(
    body: WorkflowCreate, db: DB, caller: Editor, rules: Rules, key: Idempotency, response: Response
) -> WorkflowResponse:
    fields = body.stored_fields()
    workflow, replayed = await service.create_workflow(db, caller, fields, rules, key)
    mark_created(response, replayed)
    return WorkflowResponse.model_validate(workflow)


@router.get("/{workflow_id}", responses=errors(404))
async def get_workflow(workflow_id: str, db: DB, caller: Viewer) -> WorkflowResponse:
    return WorkflowResponse.model_validate(await service.get_workflow(db, caller, workflow_id))


@router.put("/{workflow_id}", responses={**CHANGED, **WITH_BODY, **errors(404, 409)})
async def update_workflow(
    workflow_id: str, body: WorkflowUpdate, db: DB, caller: Editor, rules: Rules
) -> WorkflowResponse:
    """Change a draft. A published version stays frozen: the change makes the workflow's
    next version, a draft with its own id, which is returned."""
    changes = body.stored_fields(exclude_unset=True)
    workflow = await service.update_workflow(db, caller, workflow_id, changes, rules)
    return WorkflowResponse.model_validate(workflow)


@router.delete("/{workflow_id}", status_code=204, responses=errors(404, 409))
async def delete_workflow(workflow_id: str, db: DB, caller: Editor) -> Response:
    await service.delete_workflow(db, caller, workflow_id)
    return Response(status_code=204)


@router.post("/{workflow_id}/publish", responses={**CHANGED, **errors(404, 409)})
async def publish_workflow(
    workflow_id: str, db: DB, caller: Editor, rules: Rules
) -> WorkflowResponse:
    workflow = await service.publish_workflow(db, caller, workflow_id, rules)
    return WorkflowResponse.model_validate(workflow)


@router.post("/{workflow_id}/validate", responses=errors(404))
async def validate_workflow(
    workflow_id: str, db: DB, caller: Viewer, rules: Rules
) -> ValidationResponse:
    result = await service.validate_workflow(db, caller, workflow_id, rules)
    return ValidationResponse(
        valid=result.valid,
        errors=[error.message for error in result.errors],
        issues=[ValidationIssue(**error.to_dict()) for error in result.errors],
    )


@router.post("/{workflow_id}/duplicate", status_code=201, responses={**CREATED, **errors(404)})
async def duplicate_workflow(
    workflow_id: str, db: DB, caller: Editor, rules: Rules, key: Idempotency, response: Response
) -> WorkflowResponse:
    workflow, replayed = await service.duplicate_workflow(db, caller, workflow_id, rules, key)
    mark_created(response, replayed)
    return WorkflowResponse.model_validate(workflow)


@router.get("/{workflow_id}/versions", responses={**LISTED, **errors(404)})
async def list_workflow_versions(
    workflow_id: str, db: DB, caller: Viewer, page: VersionPages, response: Response
) -> list[WorkflowVersion]:
    found = await service.list_versions(db, caller, workflow_id, page)
    set_total(response, found)
    return [WorkflowVersion.model_validate(w) for w in found.items]


@router.post("/{workflow_id}/pause", responses=errors(404))
async def pause_workflow(workflow_id: str, db: DB, caller: Editor) -> WorkflowResponse:
    """Stop every version of the workflow from starting runs, whoever asks: a person, a
    trigger, or another run's sub_workflow step. New runs are accepted and wait, pending
    with `waiting_for: {"reason": "workflow_paused"}`, until the unpause. Runs already
    started go on; `POST /runs/{id}/cancel-tree` stops them."""
    workflow = await service.set_paused(db, caller, workflow_id, paused=True)
    return WorkflowResponse.model_validate(workflow)


@router.post("/{workflow_id}/unpause", responses=errors(404))
async def unpause_workflow(workflow_id: str, db: DB, caller: Editor) -> WorkflowResponse:
    workflow = await service.set_paused(db, caller, workflow_id, paused=False)
    return WorkflowResponse.model_validate(workflow)


@router.post("/{workflow_id}/archive", responses={**CHANGED, **errors(404, 409)})
async def archive_workflow(workflow_id: str, db: DB, caller: Editor) -> WorkflowResponse:
    """Stop this published version from starting runs, whoever asks: a person, a webhook,
    a schedule, an event trigger (409 WORKFLOW_ARCHIVED) or a parent run's sub_workflow
    step. Its runs in flight go on; it is still read and listed, with `archived: true`."""
    workflow = await service.set_archived(db, caller, workflow_id, archived=True)
    return WorkflowResponse.model_validate(workflow)


@router.post("/{workflow_id}/unarchive", responses={**CHANGED, **errors(404, 409)})
async def unarchive_workflow(workflow_id: str, db: DB, caller: Editor) -> WorkflowResponse:
    workflow = await service.set_archived(db, caller, workflow_id, archived=False)
    return WorkflowResponse.model_validate(workflow)
