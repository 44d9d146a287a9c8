"""Retention policies: how long finished runs are kept, per workspace or per workflow."""

from __future__ import annotations

from fastapi import APIRouter

from towpath.api.deps import DB, Admin, Viewer
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.api.schemas.retention import RetentionInput, RetentionPolicyResponse
from towpath.services import retention as service

router = APIRouter(tags=["retention"])


@router.get("/retention")
async def list_retention_policies(db: DB, caller: Viewer) -> list[RetentionPolicyResponse]:
    """The workspace's policy first, then each workflow's that has its own (and wins over
    the workspace's for the runs of every version of it)."""
    found = await service.list_policies(db, caller)
    return [RetentionPolicyResponse.model_validate(p) for p in found]


@router.put("/retention", responses=WITH_BODY)
async def set_workspace_retention(
    body: RetentionInput, db: DB, caller: Admin
) -> RetentionPolicyResponse:
    """Finished runs older than this are deleted with their trees, a small batch at a
    time, each batch audited; a tree with a run in flight is kept."""
    policy = await service.set_workspace_policy(db, caller, body.finished_runs_days)
    return RetentionPolicyResponse.model_validate(policy)


@router.put("/workflows/{workflow_id}/retention", responses={**WITH_BODY, **errors(404)})
async def set_workflow_retention(
    workflow_id: str, body: RetentionInput, db: DB, caller: Admin
) -> RetentionPolicyResponse:
    policy = await service.set_workflow_policy(db, caller, workflow_id, body.finished_runs_days)
    return RetentionPolicyResponse.model_validate(policy)
