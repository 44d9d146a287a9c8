"""The audit log of the caller's workspace, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from towpath.api.deps import DB, Admin
from towpath.api.paging import paging
from towpath.api.responses import LISTED, set_total
from towpath.api.schemas.access import AuditEntryResponse
from towpath.api.schemas.strict import MOMENT_RULE, Moment
from towpath.services import audit as service
from towpath.storage.audit import SORTABLE, AuditFilter
from towpath.storage.pagination import PageRequest

router = APIRouter(tags=["access"])
Text = Annotated[str | None, Query(max_length=200)]
Since = Annotated[Moment | None, Query(description=f"At or after this: {MOMENT_RULE}")]
Until = Annotated[Moment | None, Query(description=f"Before this: {MOMENT_RULE}")]
AuditPages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]


@router.get("/audit", responses=LISTED)
async def list_audit_entries(
    db: DB,
    caller: Admin,
    page: AuditPages,
    response: Response,
    actor: Text = None,
    action: Text = None,
    resource_type: Text = None,
    resource_id: Text = None,
    since: Since = None,
    until: Until = None,
) -> list[AuditEntryResponse]:
    where = AuditFilter(actor, action, resource_type, resource_id, since, until)
    found = await service.list_entries(db, caller, page, where)
    set_total(response, found)
    return [AuditEntryResponse.model_validate(entry) for entry in found.items]
