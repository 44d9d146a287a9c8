"""Members of the caller's workspace: JWT users and their roles, managed by admins."""

from __future__ import annotations

from fastapi import APIRouter, Response

from towpath.api.access import Notices
from towpath.api.deps import DB, Admin, Paging
from towpath.api.responses import set_total
from towpath.api.schemas.access import MemberCreate, MemberResponse, MemberUpdate
from towpath.services import members as service

router = APIRouter(prefix="/members", tags=["access"])


@router.get("")
async def list_members(
    db: DB, caller: Admin, page: Paging, response: Response
) -> list[MemberResponse]:
    found = await service.list_members(db, caller, page)
    set_total(response, found)
    return [MemberResponse.model_validate(member) for member in found.items]


@router.post("", status_code=201)
async def add_member(body: MemberCreate, db: DB, caller: Admin, notices: Notices) -> MemberResponse:
    """Add a JWT user. A user of another workspace keeps acting there by default: it names
    this one with `X-Workspace`."""
    member = await service.add_member(db, caller, body.subject, body.role, notices)
    return MemberResponse.model_validate(member)


@router.get("/{member_id}")
async def get_member(member_id: str, db: DB, caller: Admin) -> MemberResponse:
    return MemberResponse.model_validate(await service.get_member(db, caller, member_id))


@router.put("/{member_id}")
async def change_member_role(
    member_id: str, body: MemberUpdate, db: DB, caller: Admin, notices: Notices
) -> MemberResponse:
    member = await service.change_role(db, caller, member_id, body.role, notices)
    return MemberResponse.model_validate(member)


@router.delete("/{member_id}", status_code=204)
async def remove_member(member_id: str, db: DB, caller: Admin, notices: Notices) -> Response:
    """Remove a member: its requests here are refused, its streams close (4401)."""
    await service.remove_member(db, caller, member_id, notices)
    return Response(status_code=204)
