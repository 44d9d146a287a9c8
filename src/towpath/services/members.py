"""Member use cases: who, by their JWT subject, has which role in the caller's workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.events.access import AccessChange
from towpath.services.audit import Change, record
from towpath.services.idempotency import KEYS_KEPT, made_once
from towpath.storage import members as queries
from towpath.storage.models import Member

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.events.access import AccessNotices
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest


def _summary(member: Member) -> dict[str, Any]:
    return {"subject": member.subject, "role": member.role}


async def add_member(
    db: Database,
    caller: Principal,
    subject: str,
    role: str,
    notices: AccessNotices | None = None,
    key: IdempotencyRequest | None = None,
    policy: IdempotencyPolicy = KEYS_KEPT,
) -> tuple[Member, bool]:
    """Add a member; the bool says it was an earlier request's, by its key. Where the
    subject acts by default does not change: its first workspace stays its default, and
    it names this one with `X-Workspace`."""

    async def make(session: AsyncSession) -> str:
        member = Member(workspace_id=caller.workspace_id, subject=subject, role=role)
        await queries.add_member(session, member)
        await record(
            session, caller, Change("member.add", "member", member.id, None, _summary(member))
        )
        return member.id

    made = await made_once(db, caller, key, {"subject": subject, "role": role}, policy, make)
    member = await get_member(db, caller, made.resource_id)
    if notices is not None and not made.replayed:
        # What this process cached of the subject (a workspace claim without a role) goes.
        notices.announce(AccessChange.member_changed(member.workspace_id, member.id, subject, role))
    return member, made.replayed


async def list_members(db: Database, caller: Principal, page: PageRequest) -> Page[Member]:
    async with db.read() as session:
        return await queries.list_members(session, caller.workspace_id, page)


async def get_member(db: Database, caller: Principal, member_id: str) -> Member:
    async with db.read() as session:
        return await queries.get_member(session, caller.workspace_id, member_id)


async def change_role(
    db: Database, caller: Principal, member_id: str, role: str, notices: AccessNotices
) -> Member:
    """Every process uses the new role at once; open streams stay open (every role reads)."""
    async with db.transaction() as session:
        member = await queries.get_member(session, caller.workspace_id, member_id, for_update=True)
        before = _summary(member)
        changed = member.role != role
        if changed:
            member.role = role
            await session.flush()
            await record(
                session,
                caller,
                Change("member.update", "member", member.id, before, _summary(member)),
            )
    if changed:
        notices.announce(
            AccessChange.member_changed(member.workspace_id, member.id, member.subject, role)
        )
    return member


async def remove_member(
    db: Database, caller: Principal, member_id: str, notices: AccessNotices
) -> Member:
    """Once it commits, the member's streams of this workspace close and no process lets
    it act here any more."""
    async with db.transaction() as session:
        member = await queries.get_member(session, caller.workspace_id, member_id, for_update=True)
        await record(
            session, caller, Change("member.remove", "member", member.id, _summary(member), None)
        )
        await queries.remove_member(session, member)
    notices.announce(
        AccessChange.member_changed(member.workspace_id, member.id, member.subject, None)
    )
    return member
