"""The signing secrets of webhook triggers and subscriptions at rest: encrypted with the
workspace secrets' keys, read back only where an HMAC is checked or made.

A stored value starts with `SEALED_PREFIX`; one without it was written before secrets
were encrypted and is read as it is until `seal_plain_secrets` encrypts it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from towpath.storage.models import WebhookSubscription, WebhookTrigger

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.storage.database import Database
    from towpath.storage.secret_keys import SecretKeys

SEALED_PREFIX = "enc:"
# Every table whose `secret` and `previous_secret` columns hold signing secrets.
TABLES: tuple[Any, ...] = (WebhookTrigger, WebhookSubscription)
COLUMNS = ("secret", "previous_secret")


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def sealed(keys: SecretKeys, secret: str) -> str:
    """What is stored of a secret: its ciphertext under the first key."""
    return SEALED_PREFIX + keys.encrypt(secret)


def opened(keys: SecretKeys, stored: str) -> str:
    """The secret itself; `SecretUnreadable` if no key decrypts it."""
    if not is_sealed(stored):
        return stored
    return keys.decrypt(stored.removeprefix(SEALED_PREFIX))


def kept_sealed(keys: SecretKeys, stored: str) -> str:
    """A stored value as it is if encrypted, else encrypted: for keeping the current
    secret as the previous one at a rotation, without needing to read it."""
    return stored if is_sealed(stored) else sealed(keys, stored)


def resealed(keys: SecretKeys, stored: str) -> str:
    """The same secret encrypted with the first key, whichever way it was stored."""
    if not is_sealed(stored):
        return sealed(keys, stored)
    return SEALED_PREFIX + keys.rotate(stored.removeprefix(SEALED_PREFIX))


async def seal_plain_secrets(db: Database, keys: SecretKeys) -> int:
    """Encrypt every signing secret still stored as it is; how many were. Run as each
    server and worker starts: a row is changed only if it still holds the value read, so
    processes starting together, or a rotation meanwhile, lose nothing."""
    count = 0
    for table in TABLES:
        for name in COLUMNS:
            column = getattr(table, name)
            async with db.read() as session:
                rows = (
                    await session.execute(
                        select(table.id, column).where(
                            column.is_not(None), column.not_like(f"{SEALED_PREFIX}%")
                        )
                    )
                ).all()
            for row_id, plain in rows:
                async with db.transaction() as session:
                    changed = await session.execute(
                        update(table)
                        .where(table.id == row_id, column == plain)
                        .values({name: sealed(keys, plain)})
                        .execution_options(synchronize_session=False)
                    )
                count += _rowcount(changed)
    return count


async def reseal_all(session: AsyncSession, keys: SecretKeys) -> int:
    """Every signing secret encrypted again with the first key (and any still plain
    encrypted), so an older key can be removed; how many rows there were."""
    count = 0
    for table in TABLES:
        for row in await session.scalars(select(table).with_for_update()):
            row.secret = resealed(keys, row.secret)
            if row.previous_secret is not None:
                row.previous_secret = resealed(keys, row.previous_secret)
            count += 1
    await session.flush()
    return count


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)
