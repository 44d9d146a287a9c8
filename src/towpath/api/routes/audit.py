"""The audit log of the caller's workspace, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from towpath.api.deps import DB, Admin, Paging
from towpath.api.responses import set_total
from towpath.api.schemas.access import AuditEntryResponse
from towpath.services import audit as service
from towpath.storage.audit import AuditFilter

router = APIRouter(tags=["access"])
Text = Annotated[str | None, Query(max_length=200)]
Moment = Annotated[AwareDatetime | None, Query(description="ISO 8601, with an offset")]


@router.get("/audit")
async def list_audit_entries(
    db: DB,
    caller: Admin,
    page: Paging,
    response: Response,
    actor: Text = None,
    action: Text = None,
    resource_type: Text = None,
    resource_id: Text = None,
    since: Moment = None,
    until: Moment = None,
) -> list[AuditEntryResponse]:
    where = AuditFilter(actor, action, resource_type, resource_id, since, until)
    found = await service.list_entries(db, caller, page, where)
    set_total(response, found)
    return [AuditEntryResponse.model_validate(entry) for entry in found.items]
