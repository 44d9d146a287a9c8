"""Workspace queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from towpath.storage.models import Workspace

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_SLUG = "default"


async def ensure_workspace(session: AsyncSession, slug: str = DEFAULT_SLUG) -> Workspace:
    found = await session.scalar(select(Workspace).where(Workspace.slug == slug))
    if found is not None:
        return found
    workspace = Workspace(slug=slug, name=slug.capitalize())
    session.add(workspace)
    await session.flush()
    return workspace


async def find_workspace(session: AsyncSession, id_or_slug: str) -> Workspace | None:
    found: Workspace | None = await session.scalar(
        select(Workspace).where((Workspace.id == id_or_slug) | (Workspace.slug == id_or_slug))
    )
    return found
