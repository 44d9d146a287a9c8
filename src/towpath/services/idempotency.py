"""Creating requests with an `X-Idempotency-Key` (the IETF Idempotency-Key draft's rules).

A key is claimed in a first transaction, so a duplicate that arrives while the first
request is still working gets 409; the resource is created and the key completed in a
second one, so a retry with the same body gets the same resource back.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from towpath.domain.clock import utcnow
from towpath.domain.errors import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    IdempotencyKeysDiffer,
    InvalidIdempotencyKey,
)
from towpath.engine.sql import execute
from towpath.storage import idempotency as keys
from towpath.storage.models import IdempotencyKey

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.engine.sql import Dialect, Gen
    from towpath.storage.database import Database


# A key, in the header or in a body alike: 1-255 visible ASCII characters (the draft's rule).
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
KEY_PATTERN = f"^{_KEY.pattern}$"
KEY_RULE = "1-255 visible ASCII characters (no spaces)"
# The rule as the OpenAPI document states it, for the header and the body's field.
KEY_SCHEMA = {"minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN}


def checked_key(key: str, source: str, header: str = "X-Idempotency-Key") -> str:
    """The key, if it follows the rule; one error whatever is wrong, from the header or
    the body (`source`); `header` names the header it came in."""
    if _KEY.fullmatch(key) is None:
        raise InvalidIdempotencyKey(source, KEY_RULE, len(key), header)
    return key


@dataclass(frozen=True)
class IdempotencyRequest:
    key: str
    # The operation the key is for, e.g. "POST /api/v1/workflows".
    operation: str


@dataclass(frozen=True)
class IdempotencyPolicy:
    ttl: timedelta = timedelta(hours=24)
    lock_timeout: timedelta = timedelta(seconds=60)


# The rule when a caller gives none: keys answer for 24 hours.
KEYS_KEPT = IdempotencyPolicy()


@dataclass(frozen=True)
class Created:
    resource_id: str
    replayed: bool
    # A replayed control action's first answer, as it was stored (None for a creation).
    answer: Any = None


def one_key(
    header: IdempotencyRequest | None, body_key: str | None, operation: str
) -> IdempotencyRequest | None:
    """The request's key, from the X-Idempotency-Key header or the body's field; two
    different ones are refused."""
    if body_key is None:
        return header
    checked_key(body_key, "body")
    if header is None:
        return IdempotencyRequest(body_key, operation)
    if header.key != body_key:
        raise IdempotencyKeysDiffer(header.key, body_key)
    return header


def fingerprint(operation: str, payload: Any) -> str:
    canonical = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def request_fingerprint(operation: str, payload: Any) -> str:
    """The target's digest, then the body's, each 128 bits: a reused key can then say
    which of the two differs."""
    return _digest(operation) + _digest(payload)


def _differences(stored: str, operation: str, payload: Any) -> tuple[str, ...]:
    """What differs between a key's first request and this one; () if nothing."""
    if stored == fingerprint(operation, payload):
        # A key claimed before target and body had digests of their own.
        return ()
    now = request_fingerprint(operation, payload)
    return tuple(
        part
        for part, first, second in (
            ("target", stored[:32], now[:32]),
            ("body", stored[32:], now[32:]),
        )
        if first != second
    )


async def create_once(
    db: Database,
    caller: Principal,
    request: IdempotencyRequest | None,
    payload: Any,
    create: Callable[[str | None], Awaitable[str]],
    policy: IdempotencyPolicy,
) -> Created:
    """Run `create` at most once per key. It gets the claimed key's row id (None without a
    key), creates the resource, marks the key done in the same transaction (see
    `complete_key`), and returns the new resource's id."""
    if request is None:
        return Created(await create(None), replayed=False)
    claimed = await claim_key(db, caller, request, payload, policy)
    if isinstance(claimed, Created):
        return claimed
    try:
        resource_id = await create(claimed)
    except BaseException:
        await free_key(db, claimed)
        raise
    return Created(resource_id, replayed=False)


async def made_once(
    db: Database,
    caller: Principal,
    request: IdempotencyRequest | None,
    payload: Any,
    policy: IdempotencyPolicy,
    make: Callable[[AsyncSession], Awaitable[str]],
) -> Created:
    """`create_once` for a resource that `make(session)` adds in a write transaction of
    its own, returning its id: the key is completed in that transaction."""

    async def insert(key_id: str | None) -> str:
        async with db.transaction() as session:
            resource_id = await make(session)
            await complete_key(session, key_id, resource_id)
        return resource_id

    return await create_once(db, caller, request, payload, insert, policy)


async def free_key(db: Database, key_id: str) -> None:
    """The request failed: free its key, so a corrected request is not refused."""
    async with db.transaction() as session:
        await keys.delete_key(session, key_id)


async def complete_key(session: AsyncSession, key_id: str | None, resource_id: str) -> None:
    if key_id is not None:
        await keys.complete_key(session, key_id, 201, resource_id)


def complete_key_in_transition(d: Dialect, key_id: str, resource_id: str) -> Gen[None]:
    """Mark the key done inside an engine transition: the run it started commits with it."""
    yield from execute(keys.COMPLETE_KEY, *keys.completion(key_id, 201, resource_id, d.doc))


async def claim_key(
    db: Database,
    caller: Principal,
    request: IdempotencyRequest,
    payload: Any,
    policy: IdempotencyPolicy,
) -> str | Created:
    """The claimed key's row id, or the earlier result when the key was used before."""
    now = utcnow()
    try:
        async with db.transaction() as session:
            row = await keys.find_key(session, caller.workspace_id, caller.subject, request.key)
            if row is not None and row.expires_at <= now:
                await keys.delete_key(session, row.id)
                await session.flush()
                row = None
            if row is None:
                row = IdempotencyKey(
                    workspace_id=caller.workspace_id,
                    principal=caller.subject,
                    key=request.key,
                    fingerprint=request_fingerprint(request.operation, payload),
                    locked_at=now,
                    expires_at=now + policy.ttl,
                )
                await keys.insert_key(session, row)
                return row.id
            differs = _differences(row.fingerprint, request.operation, payload)
            return await _reuse(session, row, request.key, differs, policy)
    except IntegrityError as exc:
        # Another request inserted the same key between our read and our insert.
        raise IdempotencyKeyInFlight(request.key) from exc


async def _reuse(
    session: AsyncSession,
    row: IdempotencyKey,
    key: str,
    differs: tuple[str, ...],
    policy: IdempotencyPolicy,
) -> str | Created:
    if differs:
        raise IdempotencyKeyReused(key, differs)
    if row.response_body is not None:
        body = row.response_body
        return Created(str(body["id"]), replayed=True, answer=body.get("answer"))
    now = utcnow()
    stale = row.locked_at is None or row.locked_at + policy.lock_timeout <= now
    if stale and await keys.relock_key(session, row.id, row.locked_at, now):
        return row.id
    raise IdempotencyKeyInFlight(key)
