"""API key use cases: issue, list, revoke; and the first admin key of a new server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from towpath.auth.api_keys import generate_key
from towpath.auth.principal import Principal
from towpath.domain.clock import utcnow
from towpath.domain.errors import Conflict, Unprocessable
from towpath.events.access import AccessChange
from towpath.services.audit import Change, record
from towpath.services.idempotency import KEYS_KEPT, made_once
from towpath.storage import api_keys as queries
from towpath.storage.models import ApiKey
from towpath.storage.workspaces import DEFAULT_SLUG, ensure_workspace

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.events.access import AccessNotices
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest

# Who the audit log names for keys made on the server's own machine.
SERVER_ACTOR = "towpath"
# Who a key made on the server's machine says created it: `towpath keys create`, or
# `towpath serve` making a new server's first admin key.
MADE_BY_CLI = "cli"
MADE_BY_SERVE = "serve"


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    # Shown to the caller once; only its hash is stored.
    plaintext: str


def _summary(key: ApiKey) -> dict[str, Any]:
    expires = key.expires_at.isoformat() if key.expires_at else None
    revoked = key.revoked_at.isoformat() if key.revoked_at else None
    return {
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "expires_at": expires,
        "revoked_at": revoked,
        "created_by": key.created_by,
    }


async def _issue(
    session: AsyncSession,
    caller: Principal,
    name: str,
    role: str,
    expires_at: datetime | None,
    created_by: str | None = None,
) -> IssuedKey:
    new = generate_key()
    key = ApiKey(
        workspace_id=caller.workspace_id,
        name=name,
        prefix=new.prefix,
        key_hash=new.key_hash,
        role=role,
        expires_at=expires_at,
        created_by=created_by or caller.subject,
    )
    await queries.add_key(session, key)
    await record(session, caller, Change("api_key.create", "api_key", key.id, None, _summary(key)))
    return IssuedKey(key, new.plaintext)


class ExpiryInPast(Unprocessable):
    code = "EXPIRY_IN_PAST"

    def __init__(self, expires_at: datetime) -> None:
        super().__init__(
            "a new key must expire in the future", details={"expires_at": expires_at.isoformat()}
        )


class KeyAlreadyIssued(Conflict):
    code = "API_KEY_ALREADY_ISSUED"

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"an earlier request with this idempotency key issued key {key_id}, shown once in"
            " its answer: only its hash is kept. If that answer was lost, revoke the key"
            f" (DELETE /api/v1/api-keys/{key_id}) and issue another",
            details={"id": key_id},
        )


async def issue_key(
    db: Database,
    caller: Principal,
    name: str,
    role: str,
    expires_at: datetime | None,
    request: IdempotencyRequest | None = None,
    policy: IdempotencyPolicy = KEYS_KEPT,
) -> IssuedKey:
    """A new key. The same request repeated with its idempotency key issues none: the
    first key cannot be shown again, so the repeat is a 409 naming it."""
    if expires_at is not None and expires_at <= utcnow():
        raise ExpiryInPast(expires_at)
    issued: list[IssuedKey] = []

    async def make(session: AsyncSession) -> str:
        issued.append(await _issue(session, caller, name, role, expires_at))
        return issued[0].key.id

    payload = {"name": name, "role": role, "expires_at": expires_at and expires_at.isoformat()}
    made = await made_once(db, caller, request, payload, policy, make)
    if made.replayed:
        raise KeyAlreadyIssued(made.resource_id)
    return issued[0]


async def list_keys(db: Database, caller: Principal, page: PageRequest) -> Page[ApiKey]:
    async with db.read() as session:
        return await queries.list_keys(session, caller.workspace_id, page)


async def get_key(db: Database, caller: Principal, key_id: str) -> ApiKey:
    async with db.read() as session:
        return await queries.get_key(session, caller.workspace_id, key_id)


async def revoke_key(
    db: Database, caller: Principal, key_id: str, notices: AccessNotices
) -> ApiKey:
    """Revoke a key; revoking it again changes nothing and is not logged again. Once it
    commits, the streams it opened close and no process accepts it any more."""
    async with db.transaction() as session:
        key = await queries.get_key(session, caller.workspace_id, key_id, for_update=True)
        if key.revoked_at is None:
            before = _summary(key)
            key.revoked_at = utcnow()
            await session.flush()
            await record(
                session, caller, Change("api_key.revoke", "api_key", key.id, before, _summary(key))
            )
    notices.announce(AccessChange.key_revoked(key.workspace_id, key.id))
    return key


async def issue_workspace_key(
    db: Database,
    name: str,
    role: str,
    *,
    workspace: str = DEFAULT_SLUG,
    expires_at: datetime | None = None,
    created_by: str = MADE_BY_CLI,
) -> IssuedKey:
    """A key made on the server's machine (`towpath keys create`); the workspace, named by
    its slug, is created when it is new."""
    async with db.transaction() as session:
        found = await ensure_workspace(session, workspace)
        caller = Principal(SERVER_ACTOR, found.id, "admin")
        return await _issue(session, caller, name, role, expires_at, created_by)


async def issue_first_admin_key(db: Database) -> IssuedKey | None:
    """An admin key for a server that has none yet, or None when there is one."""
    async with db.transaction() as session:
        workspace = await ensure_workspace(session)
        # Locks the workspace row: API processes starting together make one key, not several.
        await session.refresh(workspace, with_for_update=True)
        if await queries.count_keys(session) > 0:
            return None
        caller = Principal(SERVER_ACTOR, workspace.id, "admin")
        return await _issue(session, caller, "first admin key", "admin", None, MADE_BY_SERVE)
