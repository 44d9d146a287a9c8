"""API key rows: found by their prefix, listed and revoked within a workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from towpath.domain.errors import NotFound
from towpath.storage.models import ApiKey
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.scoped import get_scoped

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"created_at": ApiKey.created_at, "name": ApiKey.name, "role": ApiKey.role}


class ApiKeyNotFound(NotFound):
    code = "API_KEY_NOT_FOUND"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"API key {key_id!r} not found", details={"id": key_id})


async def find_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    found: ApiKey | None = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    return found


async def find_by_id(session: AsyncSession, key_id: str) -> ApiKey | None:
    """Any workspace's key: what a stream token was made from is looked up by its id."""
    found: ApiKey | None = await session.get(ApiKey, key_id)
    return found


async def get_key(
    session: AsyncSession, workspace_id: str, key_id: str, *, for_update: bool = False
) -> ApiKey:
    return await get_scoped(
        session, ApiKey, workspace_id, key_id, ApiKeyNotFound, for_update=for_update
    )


async def list_keys(session: AsyncSession, workspace_id: str, page: PageRequest) -> Page[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.workspace_id == workspace_id)
    return await paginate(session, stmt, page, SORTABLE, "-created_at", tiebreak=ApiKey.id)


async def add_key(session: AsyncSession, key: ApiKey) -> ApiKey:
    session.add(key)
    await session.flush()
    return key


async def count_keys(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ApiKey)) or 0)


async def mark_used(session: AsyncSession, key_id: str, when: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=when))
