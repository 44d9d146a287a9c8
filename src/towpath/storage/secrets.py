"""Server secrets: made by whichever process asks first, read by all the others."""

from __future__ import annotations

import secrets
import weakref
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from towpath.storage.models import ServerSecret

if TYPE_CHECKING:
    from towpath.storage.database import Database


# A server secret is written once and never changed: each Database reads it once.
_known: weakref.WeakKeyDictionary[Database, dict[str, str]] = weakref.WeakKeyDictionary()


async def server_secret(db: Database, name: str) -> str:
    known = _known.setdefault(db, {})
    if name not in known:
        known[name] = await _read_or_make(db, name)
    return known[name]


async def _read_or_make(db: Database, name: str) -> str:
    async with db.read() as session:
        found = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    if found is not None:
        return found
    try:
        async with db.transaction() as session:
            session.add(ServerSecret(name=name, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process made it first: theirs is the one
    async with db.read() as session:
        made = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    if made is None:  # pragma: no cover - written or found just above
        raise RuntimeError(f"server secret {name!r} is missing")
    return made
