"""Workspace secret rows: looked up by name, listed without their values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from towpath.domain.errors import Conflict, NotFound
from towpath.storage.models import WorkspaceSecret
from towpath.storage.pagination import Page, PageRequest, paginate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"name": WorkspaceSecret.name, "created_at": WorkspaceSecret.created_at}


class SecretNotFound(NotFound):
    code = "SECRET_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(f"secret {name!r} not found", details={"name": name})


class SecretExists(Conflict):
    code = "SECRET_EXISTS"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"a secret named {name!r} exists already; rotate it to change its value",
            details={"name": name},
        )


async def get_secret(
    session: AsyncSession, workspace_id: str, name: str, *, for_update: bool = False
) -> WorkspaceSecret:
    stmt = select(WorkspaceSecret).where(
        WorkspaceSecret.workspace_id == workspace_id, WorkspaceSecret.name == name
    )
    if for_update:
        stmt = stmt.with_for_update()
    found: WorkspaceSecret | None = await session.scalar(stmt)
    if found is None:
        raise SecretNotFound(name)
    return found


async def list_secrets(
    session: AsyncSession, workspace_id: str, page: PageRequest
) -> Page[WorkspaceSecret]:
    stmt = select(WorkspaceSecret).where(WorkspaceSecret.workspace_id == workspace_id)
    return await paginate(session, stmt, page, SORTABLE, "name", tiebreak=WorkspaceSecret.id)


async def secret_names(session: AsyncSession, workspace_id: str) -> frozenset[str]:
    rows = await session.scalars(
        select(WorkspaceSecret.name).where(WorkspaceSecret.workspace_id == workspace_id)
    )
    return frozenset(rows)


async def add_secret(session: AsyncSession, secret: WorkspaceSecret) -> WorkspaceSecret:
    session.add(secret)
    await session.flush()
    return secret


async def delete_secret(session: AsyncSession, secret: WorkspaceSecret) -> None:
    await session.delete(secret)
    await session.flush()


async def all_secrets(session: AsyncSession) -> list[WorkspaceSecret]:
    """Every workspace's secrets, for re-encrypting them under a new key."""
    return list(await session.scalars(select(WorkspaceSecret).with_for_update()))
