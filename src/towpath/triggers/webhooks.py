"""Webhook trigger use cases: create, list, read, delete, rotate the secret."""

from __future__ import annotations

import secrets as random
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.services.audit import Change, record
from towpath.services.idempotency import KEYS_KEPT, made_once
from towpath.storage import webhooks as queries
from towpath.storage.hook_secrets import kept_sealed, opened, sealed
from towpath.storage.models import WebhookTrigger
from towpath.storage.workflows import get_workflow
from towpath.triggers.bodies import check_transform
from towpath.triggers.signatures import Scheme, new_secret

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.models import WebhookDelivery
    from towpath.storage.pagination import Page, PageRequest
    from towpath.storage.secret_keys import SecretKeys

# A trigger's id is in its public URL: 192 random bits, so no one finds one by trying ids.
ID_PREFIX = "wh_"


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    workflow_id: str
    scheme: Scheme
    scheme_options: dict[str, Any]
    transform: Any
    # Run exactly `workflow_id`, not the newest published version of its lineage.
    pinned: bool = False


@dataclass(frozen=True)
class TriggerWithSecret:
    trigger: WebhookTrigger
    # Shown when it is made or rotated, and to a replay of the request that made it.
    secret: str
    replayed: bool = False


def _summary(trigger: WebhookTrigger) -> dict[str, Any]:
    """What the audit log keeps of a trigger: never its secret."""
    return {
        "name": trigger.name,
        "workflow_id": trigger.workflow_id,
        "scheme": trigger.scheme,
        "transform": trigger.transform is not None,
        "pinned": trigger.pinned,
    }


async def create(
    db: Database,
    keys: SecretKeys,
    caller: Principal,
    spec: TriggerSpec,
    key: IdempotencyRequest | None = None,
    policy: IdempotencyPolicy = KEYS_KEPT,
) -> TriggerWithSecret:
    """The new trigger and its secret. A request repeated with its idempotency key gets
    the trigger it made, with the secret it has now: the caller could rotate it anyway."""
    if spec.transform is not None:
        check_transform(spec.transform)
    secret = new_secret(spec.scheme)

    async def make(session: AsyncSession) -> str:
        await get_workflow(session, caller.workspace_id, spec.workflow_id)
        trigger = WebhookTrigger(
            id=ID_PREFIX + random.token_urlsafe(24),
            workspace_id=caller.workspace_id,
            name=spec.name,
            workflow_id=spec.workflow_id,
            scheme=spec.scheme.value,
            scheme_options=spec.scheme_options,
            secret=sealed(keys, secret),
            transform=spec.transform,
            pinned=spec.pinned,
            created_by=caller.subject,
        )
        await queries.add_trigger(session, trigger)
        change = Change("webhook.create", "webhook_trigger", trigger.id, None, _summary(trigger))
        await record(session, caller, change)
        return trigger.id

    payload = {**asdict(spec), "scheme": spec.scheme.value}
    made = await made_once(db, caller, key, payload, policy, make)
    trigger = await get(db, caller, made.resource_id)
    if made.replayed:
        secret = opened(keys, trigger.secret)
    return TriggerWithSecret(trigger, secret, made.replayed)


async def list_triggers(db: Database, caller: Principal, page: PageRequest) -> Page[WebhookTrigger]:
    async with db.read() as session:
        return await queries.list_triggers(session, caller.workspace_id, page)


async def get(db: Database, caller: Principal, trigger_id: str) -> WebhookTrigger:
    async with db.read() as session:
        return await queries.get_trigger(session, caller.workspace_id, trigger_id)


async def delete(db: Database, caller: Principal, trigger_id: str) -> None:
    async with db.transaction() as session:
        trigger = await queries.get_trigger(session, caller.workspace_id, trigger_id)
        before = _summary(trigger)
        await queries.delete_trigger(session, trigger)
        change = Change("webhook.delete", "webhook_trigger", trigger_id, before)
        await record(session, caller, change)


async def rotate_secret(
    db: Database, keys: SecretKeys, caller: Principal, trigger_id: str, overlap: timedelta
) -> TriggerWithSecret:
    """A new secret; the old one still verifies for `overlap`, so senders can switch."""
    now = utcnow()
    async with db.transaction() as session:
        trigger = await queries.get_trigger(
            session, caller.workspace_id, trigger_id, for_update=True
        )
        secret = new_secret(Scheme(trigger.scheme))
        keep = overlap > timedelta(0)
        trigger.previous_secret = kept_sealed(keys, trigger.secret) if keep else None
        trigger.previous_expires_at = now + overlap if keep else None
        trigger.secret = sealed(keys, secret)
        trigger.rotated_at = now
        await session.flush()
        after = {"overlap_seconds": int(overlap.total_seconds())}
        change = Change("webhook.rotate", "webhook_trigger", trigger_id, None, after)
        await record(session, caller, change)
    return TriggerWithSecret(trigger, secret)


def accepted_secrets(trigger: WebhookTrigger, now: datetime, keys: SecretKeys) -> list[str]:
    """The current secret, and the previous one while its overlap lasts, decrypted to
    check a delivery's HMAC; `SecretUnreadable` if no key decrypts one."""
    found = [opened(keys, trigger.secret)]
    if (
        trigger.previous_secret is not None
        and trigger.previous_expires_at is not None
        and now < trigger.previous_expires_at
    ):
        found.append(opened(keys, trigger.previous_secret))
    return found


async def deliveries(
    db: Database, caller: Principal, trigger_id: str, page: PageRequest
) -> Page[WebhookDelivery]:
    async with db.read() as session:
        await queries.get_trigger(session, caller.workspace_id, trigger_id)
        return await queries.list_deliveries(session, trigger_id, page)
