"""Workspace groups: named lists of principals that approvals name as `group:<name>`.
Every role reads them; admins change them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from towpath.api.deps import DB, Admin, Idempotency, Rules, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.groups import GROUP_NAME, GroupCreate, GroupResponse, GroupUpdate
from towpath.api.schemas.links import created_or_replayed
from towpath.services import groups as service
from towpath.storage.groups import SORTABLE
from towpath.storage.pagination import PageRequest

router = APIRouter(prefix="/groups", tags=["access"])
CREATED: Responses = {
    **created_or_replayed(
        "The new group",
        "The group an earlier request with this idempotency key made",
        GroupResponse,
        {},
    ),
    **errors(409),
}
GroupPages = Annotated[PageRequest, paging(SORTABLE, "name")]
Name = Annotated[str, Path(pattern=GROUP_NAME, description="The group's name")]


@router.get("", responses=LISTED)
async def list_groups(
    db: DB, caller: Viewer, page: GroupPages, response: Response
) -> list[GroupResponse]:
    found = await service.list_groups(db, caller, page)
    set_total(response, found)
    return [GroupResponse.model_validate(group) for group in found.items]


@router.post("", status_code=201, responses={**CREATED, **WITH_BODY})
async def create_group(
    body: GroupCreate, db: DB, caller: Admin, rules: Rules, key: Idempotency, response: Response
) -> GroupResponse:
    """A name taken in this workspace already is a 409. An approval naming `group:<name>`
    that its own `groups` does not define takes this group's members when it starts to
    wait."""
    group, replayed = await service.create_group(
        db, caller, body.name, body.members, key, rules.idempotency
    )
    mark_created(response, replayed)
    return GroupResponse.model_validate(group)


@router.get("/{name}", responses=errors(404))
async def get_group(name: Name, db: DB, caller: Viewer) -> GroupResponse:
    return GroupResponse.model_validate(await service.get_group(db, caller, name))


@router.put("/{name}", responses={**WITH_BODY, **errors(404)})
async def set_group_members(name: Name, body: GroupUpdate, db: DB, caller: Admin) -> GroupResponse:
    """Replace the members. Approvals already waiting keep the members they started with."""
    group = await service.set_members(db, caller, name, body.members)
    return GroupResponse.model_validate(group)


@router.delete("/{name}", status_code=204, responses=errors(404))
async def delete_group(name: Name, db: DB, caller: Admin) -> Response:
    await service.delete_group(db, caller, name)
    return Response(status_code=204)
