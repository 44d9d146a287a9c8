"""Member rows: a JWT subject's role in a workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from towpath.domain.errors import Conflict, NotFound
from towpath.storage.models import Member, Workspace
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


async def first_membership(session: AsyncSession, subject: str) -> Member | None:
    """The subject's oldest membership: the workspace it acts in unless it names another.
    Joining another workspace later never changes it."""
    found: Member | None = await session.scalar(
        select(Member)
        .where(Member.subject == subject)
        .order_by(Member.created_at, Member.id)
        .limit(1)
    )
    return found


async def membership_in(session: AsyncSession, subject: str, workspace: str) -> Member | None:
    """The subject's membership of the workspace named by id or slug. One query whether
    the workspace exists or not: the answer must not tell which."""
    found: Member | None = await session.scalar(
        select(Member)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(
            Member.subject == subject,
            or_(Workspace.id == workspace, Workspace.slug == workspace),
        )
        # A slug that happens to be another workspace's id names that workspace second.
        .order_by((Workspace.id == workspace).desc())
        .limit(1)
    )
    return found


async def find_by_id(session: AsyncSession, member_id: str) -> Member | None:
    found: Member | None = await session.get(Member, member_id)
    return found


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
