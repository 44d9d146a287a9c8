"""Member use cases: who, by their JWT subject, has which role in the caller's workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.services.audit import Change, record
from towpath.storage import members as queries
from towpath.storage.models import Member

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest


def _summary(member: Member) -> dict[str, Any]:
    return {"subject": member.subject, "role": member.role}


async def add_member(db: Database, caller: Principal, subject: str, role: str) -> Member:
    async with db.transaction() as session:
        member = Member(workspace_id=caller.workspace_id, subject=subject, role=role)
        await queries.add_member(session, member)
        await record(
            session, caller, Change("member.add", "member", member.id, None, _summary(member))
        )
        return member


async def list_members(db: Database, caller: Principal, page: PageRequest) -> Page[Member]:
    async with db.read() as session:
        return await queries.list_members(session, caller.workspace_id, page)


async def get_member(db: Database, caller: Principal, member_id: str) -> Member:
    async with db.read() as session:
        return await queries.get_member(session, caller.workspace_id, member_id)


async def change_role(db: Database, caller: Principal, member_id: str, role: str) -> Member:
    async with db.transaction() as session:
        member = await queries.get_member(session, caller.workspace_id, member_id, for_update=True)
        before = _summary(member)
        if member.role != role:
            member.role = role
            await session.flush()
            await record(
                session,
                caller,
                Change("member.update", "member", member.id, before, _summary(member)),
            )
        return member


async def remove_member(db: Database, caller: Principal, member_id: str) -> Member:
    async with db.transaction() as session:
        member = await queries.get_member(session, caller.workspace_id, member_id, for_update=True)
        await record(
            session, caller, Change("member.remove", "member", member.id, _summary(member), None)
        )
        await queries.remove_member(session, member)
        return member
