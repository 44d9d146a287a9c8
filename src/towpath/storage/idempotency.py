"""Idempotency-key rows: claim a key, store the resource it created, release it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from towpath.storage.models import IdempotencyKey
from towpath.storage.statements import as_is, for_session, positional
from towpath.storage.types import JSONDoc

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

# A key is done: it now answers with the response its first request got. Run in a
# session (`complete_key`) and inside a run start's own transition.
COMPLETE_KEY = (
    "UPDATE idempotency_keys SET locked_at = NULL, response_status = ?, response_body = ?"
    " WHERE id = ?"
)
_COMPLETE_KEY = for_session(COMPLETE_KEY, None, JSONDoc, None)


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


def completion(
    key_id: str,
    status: int,
    resource_id: str,
    doc: Callable[[Any], Any] = as_is,
    answer: Any = None,
) -> tuple[Any, ...]:
    """COMPLETE_KEY's values; `doc` encodes the response body for a driver that needs it.
    A control action keeps its whole `answer`, to give it again; a creation, the id."""
    body = {"id": resource_id} if answer is None else {"id": resource_id, "answer": answer}
    return (status, doc(body), key_id)


async def complete_key(
    session: AsyncSession, key_id: str, status: int, resource_id: str, answer: Any = None
) -> None:
    values = completion(key_id, status, resource_id, answer=answer)
    await session.execute(_COMPLETE_KEY, positional(*values))


async def delete_key(session: AsyncSession, key_id: str) -> None:
    await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == key_id))
