"""Workspace group use cases: named lists of principals that approvals name as
`group:<name>`, read by every role and changed by admins, each change audited.

An approval takes the members of the groups it names when it starts to wait
(`engine.approvals.with_workspace_groups`): a change here reaches the approvals that
start waiting after it, not those already waiting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.services.audit import Change, record
from towpath.services.idempotency import KEYS_KEPT, made_once
from towpath.storage import groups as queries
from towpath.storage.models import WorkspaceGroup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest


def _summary(group: WorkspaceGroup) -> dict[str, Any]:
    return {"name": group.name, "members": list(group.members)}


async def create_group(
    db: Database,
    caller: Principal,
    name: str,
    members: list[str],
    key: IdempotencyRequest | None = None,
    policy: IdempotencyPolicy = KEYS_KEPT,
) -> tuple[WorkspaceGroup, bool]:
    """The new group; the bool says it was an earlier request's, by its key."""

    async def make(session: AsyncSession) -> str:
        group = WorkspaceGroup(workspace_id=caller.workspace_id, name=name, members=members)
        await queries.add_group(session, group)
        await record(
            session, caller, Change("group.create", "group", group.id, None, _summary(group))
        )
        # Groups are read by name.
        return name

    payload = {"name": name, "members": members}
    made = await made_once(db, caller, key, payload, policy, make)
    return await get_group(db, caller, made.resource_id), made.replayed


async def list_groups(db: Database, caller: Principal, page: PageRequest) -> Page[WorkspaceGroup]:
    async with db.read() as session:
        return await queries.list_groups(session, caller.workspace_id, page)


async def get_group(db: Database, caller: Principal, name: str) -> WorkspaceGroup:
    async with db.read() as session:
        return await queries.get_group(session, caller.workspace_id, name)


async def set_members(
    db: Database, caller: Principal, name: str, members: list[str]
) -> WorkspaceGroup:
    """Replace the group's members; the same list again changes (and audits) nothing."""
    async with db.transaction() as session:
        group = await queries.get_group(session, caller.workspace_id, name, for_update=True)
        before = _summary(group)
        if list(group.members) != members:
            group.members = members
            await session.flush()
            await record(
                session, caller, Change("group.update", "group", group.id, before, _summary(group))
            )
    return group


async def delete_group(db: Database, caller: Principal, name: str) -> None:
    async with db.transaction() as session:
        group = await queries.get_group(session, caller.workspace_id, name, for_update=True)
        await record(
            session, caller, Change("group.delete", "group", group.id, _summary(group), None)
        )
        await queries.remove_group(session, group)
