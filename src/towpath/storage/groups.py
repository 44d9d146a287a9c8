"""Workspace group rows: named lists of principals that approvals name as `group:<name>`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from towpath.domain.errors import Conflict, NotFound
from towpath.storage.models import WorkspaceGroup
from towpath.storage.pagination import Page, PageRequest, paginate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"name": WorkspaceGroup.name, "created_at": WorkspaceGroup.created_at}


class GroupNotFound(NotFound):
    code = "GROUP_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(f"group {name!r} not found", details={"name": name})


class GroupExists(Conflict):
    code = "GROUP_EXISTS"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"a group named {name!r} exists in this workspace already", details={"name": name}
        )


async def find_group(session: AsyncSession, workspace_id: str, name: str) -> WorkspaceGroup | None:
    found: WorkspaceGroup | None = await session.scalar(
        select(WorkspaceGroup).where(
            WorkspaceGroup.workspace_id == workspace_id, WorkspaceGroup.name == name
        )
    )
    return found


async def get_group(
    session: AsyncSession, workspace_id: str, name: str, *, for_update: bool = False
) -> WorkspaceGroup:
    stmt = select(WorkspaceGroup).where(
        WorkspaceGroup.workspace_id == workspace_id, WorkspaceGroup.name == name
    )
    found: WorkspaceGroup | None = await session.scalar(
        stmt.with_for_update() if for_update else stmt
    )
    if found is None:
        raise GroupNotFound(name)
    return found


async def list_groups(
    session: AsyncSession, workspace_id: str, page: PageRequest
) -> Page[WorkspaceGroup]:
    stmt = select(WorkspaceGroup).where(WorkspaceGroup.workspace_id == workspace_id)
    return await paginate(session, stmt, page, SORTABLE, "name", tiebreak=WorkspaceGroup.id)


async def add_group(session: AsyncSession, group: WorkspaceGroup) -> WorkspaceGroup:
    """The unique constraint decides between concurrent creations; this check names the
    group in the common case."""
    if await find_group(session, group.workspace_id, group.name) is not None:
        raise GroupExists(group.name)
    session.add(group)
    await session.flush()
    return group


async def remove_group(session: AsyncSession, group: WorkspaceGroup) -> None:
    await session.delete(group)
    await session.flush()
