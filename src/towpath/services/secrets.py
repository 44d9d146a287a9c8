"""Workspace secret use cases: create, list, read (metadata), rotate, delete, and
re-encrypting every secret under the newest key. Values are never audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.services.audit import Change, record
from towpath.storage import secrets_store as queries
from towpath.storage.hook_secrets import reseal_all
from towpath.storage.models import WorkspaceSecret

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest
    from towpath.storage.secret_keys import SecretKeys


@dataclass(frozen=True)
class NewSecret:
    name: str
    value: str
    description: str | None = None


def _summary(secret: WorkspaceSecret) -> dict[str, Any]:
    """What the audit log keeps of a secret: never its value."""
    return {"name": secret.name, "description": secret.description}


async def create(
    db: Database, keys: SecretKeys, caller: Principal, new: NewSecret
) -> WorkspaceSecret:
    ciphertext = keys.encrypt(new.value)
    async with db.transaction() as session:
        try:
            await queries.get_secret(session, caller.workspace_id, new.name)
        except queries.SecretNotFound:
            pass
        else:
            raise queries.SecretExists(new.name)
        secret = WorkspaceSecret(
            workspace_id=caller.workspace_id,
            name=new.name,
            ciphertext=ciphertext,
            description=new.description,
            created_by=caller.subject,
        )
        await queries.add_secret(session, secret)
        change = Change("secret.create", "secret", secret.name, None, _summary(secret))
        await record(session, caller, change)
    return secret


async def list_secrets(db: Database, caller: Principal, page: PageRequest) -> Page[WorkspaceSecret]:
    async with db.read() as session:
        return await queries.list_secrets(session, caller.workspace_id, page)


async def get(db: Database, caller: Principal, name: str) -> WorkspaceSecret:
    async with db.read() as session:
        return await queries.get_secret(session, caller.workspace_id, name)


async def rotate(
    db: Database, keys: SecretKeys, caller: Principal, name: str, value: str
) -> WorkspaceSecret:
    """A new value; runs that start after the commit read it."""
    ciphertext = keys.encrypt(value)
    async with db.transaction() as session:
        secret = await queries.get_secret(session, caller.workspace_id, name, for_update=True)
        secret.ciphertext = ciphertext
        secret.rotated_at = utcnow()
        await session.flush()
        change = Change("secret.rotate", "secret", name, None, _summary(secret))
        await record(session, caller, change)
    return secret


async def delete(db: Database, caller: Principal, name: str) -> None:
    async with db.transaction() as session:
        secret = await queries.get_secret(session, caller.workspace_id, name, for_update=True)
        before = _summary(secret)
        await queries.delete_secret(session, secret)
        await record(session, caller, Change("secret.delete", "secret", name, before))


async def reencrypt_all(db: Database, keys: SecretKeys) -> int:
    """Every workspace's secrets, and the signing secrets of webhook triggers and
    subscriptions, encrypted again with the first key, so an older key can be removed
    from the settings; how many rows there were."""
    async with db.transaction() as session:
        found = await queries.all_secrets(session)
        for secret in found:
            secret.ciphertext = keys.rotate(secret.ciphertext)
        await session.flush()
        signing = await reseal_all(session, keys)
    return len(found) + signing
