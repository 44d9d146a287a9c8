"""Idempotency-key rows: claim a key, store the resource it created, release it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from towpath.storage.models import IdempotencyKey

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


async def find_key(
    session: AsyncSession, workspace_id: str, principal: str, key: str
) -> IdempotencyKey | None:
    found: IdempotencyKey | None = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.workspace_id == workspace_id,
            IdempotencyKey.principal == principal,
            IdempotencyKey.key == key,
        )
    )
    return found


async def insert_key(session: AsyncSession, row: IdempotencyKey) -> None:
    session.add(row)
    await session.flush()


async def relock_key(
    session: AsyncSession, key_id: str, seen_locked_at: datetime | None, now: datetime
) -> bool:
    """Take over a key whose holder died; False if someone else took it first."""
    result = await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key_id, IdempotencyKey.locked_at == seen_locked_at)
        .values(locked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def complete_key(session: AsyncSession, key_id: str, status: int, resource_id: str) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == key_id)
        .values(locked_at=None, response_status=status, response_body={"id": resource_id})
    )


async def delete_key(session: AsyncSession, key_id: str) -> None:
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == key_id))
