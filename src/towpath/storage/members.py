"""Member rows: a JWT subject's role in a workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from towpath.domain.errors import Conflict, NotFound
from towpath.storage.models import Member
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.scoped import get_scoped

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"created_at": Member.created_at, "subject": Member.subject, "role": Member.role}


class MemberNotFound(NotFound):
    code = "MEMBER_NOT_FOUND"

    def __init__(self, member_id: str) -> None:
        super().__init__(f"member {member_id!r} not found", details={"id": member_id})


class MemberExists(Conflict):
    code = "MEMBER_EXISTS"

    def __init__(self, subject: str) -> None:
        super().__init__(
            f"{subject!r} is already a member of this workspace", details={"subject": subject}
        )


async def memberships(session: AsyncSession, subject: str) -> list[Member]:
    rows = await session.scalars(
        select(Member).where(Member.subject == subject).order_by(Member.created_at)
    )
    return list(rows)


async def find_member(session: AsyncSession, workspace_id: str, subject: str) -> Member | None:
    found: Member | None = await session.scalar(
        select(Member).where(Member.workspace_id == workspace_id, Member.subject == subject)
    )
    return found


async def get_member(
    session: AsyncSession, workspace_id: str, member_id: str, *, for_update: bool = False
) -> Member:
    return await get_scoped(
        session, Member, workspace_id, member_id, MemberNotFound, for_update=for_update
    )


async def list_members(session: AsyncSession, workspace_id: str, page: PageRequest) -> Page[Member]:
    stmt = select(Member).where(Member.workspace_id == workspace_id)
    return await paginate(session, stmt, page, SORTABLE, "created_at", tiebreak=Member.id)


async def add_member(session: AsyncSession, member: Member) -> Member:
    if await find_member(session, member.workspace_id, member.subject) is not None:
        raise MemberExists(member.subject)
    session.add(member)
    await session.flush()
    return member


async def remove_member(session: AsyncSession, member: Member) -> None:
    await session.delete(member)
    await session.flush()
