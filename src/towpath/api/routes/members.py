"""Members of the caller's workspace: JWT users and their roles, managed by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from towpath.api.access import Notices
from towpath.api.deps import DB, Admin, Idempotency, Rules
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.access import MemberCreate, MemberResponse, MemberUpdate
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.api.schemas.links import created_or_replayed, links
from towpath.services import members as service
from towpath.storage.members import SORTABLE
from towpath.storage.pagination import PageRequest

router = APIRouter(prefix="/members", tags=["access"])
MemberPages = Annotated[PageRequest, paging(SORTABLE, "created_at")]
MEMBER_LINKS = links("member_id", "get_member", "change_member_role", "remove_member")


@router.get("", responses=LISTED)
async def list_members(
    db: DB, caller: Admin, page: MemberPages, response: Response
) -> list[MemberResponse]:
    found = await service.list_members(db, caller, page)
    set_total(response, found)
    return [MemberResponse.model_validate(member) for member in found.items]


@router.post(
    "",
    status_code=201,
    responses={
        **created_or_replayed(
            "The new member",
            "The member an earlier request with this idempotency key added",
            MemberResponse,
            MEMBER_LINKS,
        ),
        **WITH_BODY,
        **errors(409),
    },
)
async def add_member(
    body: MemberCreate,
    db: DB,
    caller: Admin,
    notices: Notices,
    rules: Rules,
    key: Idempotency,
    response: Response,
) -> MemberResponse:
    """Add a JWT user. A user of another workspace keeps acting there by default: it names
    this one with `X-Workspace`."""
    member, replayed = await service.add_member(
        db, caller, body.subject, body.role, notices, key, rules.idempotency
    )
    mark_created(response, replayed)
    return MemberResponse.model_validate(member)


@router.get("/{member_id}", responses=errors(404))
async def get_member(member_id: str, db: DB, caller: Admin) -> MemberResponse:
    return MemberResponse.model_validate(await service.get_member(db, caller, member_id))


@router.put("/{member_id}", responses={**WITH_BODY, **errors(404)})
async def change_member_role(
    member_id: str, body: MemberUpdate, db: DB, caller: Admin, notices: Notices
) -> MemberResponse:
    member = await service.change_role(db, caller, member_id, body.role, notices)
    return MemberResponse.model_validate(member)


@router.delete("/{member_id}", status_code=204, responses=errors(404))
async def remove_member(member_id: str, db: DB, caller: Admin, notices: Notices) -> Response:
    """Remove a member: its requests here are refused, its streams close (4401)."""
    await service.remove_member(db, caller, member_id, notices)
    return Response(status_code=204)
