"""Outgoing webhook subscription use cases: create, list, read, change, delete, rotate
the secret, and list a subscription's deliveries with their attempts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.services.audit import Change, record
from towpath.services.idempotency import KEYS_KEPT, made_once
from towpath.storage import subscriptions as queries
from towpath.storage.hook_secrets import kept_sealed, opened, sealed
from towpath.storage.models import WebhookSubscription
from towpath.storage.pagination import Page
from towpath.storage.workflows import get_workflow
from towpath.triggers.signatures import Scheme, new_secret

if TYPE_CHECKING:
    from datetime import timedelta

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.models import DeliveryAttempt, SubscriptionDelivery
    from towpath.storage.pagination import PageRequest
    from towpath.storage.secret_keys import SecretKeys


@dataclass(frozen=True)
class SubscriptionSpec:
    url: str
    event_types: list[str]
    # Any version's id; the subscription keeps the lineage, so it covers every version.
    workflow_id: str | None = None
    description: str = ""


@dataclass(frozen=True)
class SubscriptionChanges:
    """What a PATCH names; a field left out is left as it is (`workflow_id` may be set to
    None, which widens the subscription to every workflow)."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionWithSecret:
    subscription: WebhookSubscription
    # Shown when it is made or rotated, and to a replay of the request that made it.
    secret: str
    replayed: bool = False


@dataclass(frozen=True)
class DeliveryWithAttempts:
    delivery: SubscriptionDelivery
    attempts: list[DeliveryAttempt]


def _summary(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit log keeps of a subscription: never its secret."""
    return {
        "url": subscription.url,
        "description": subscription.description,
        "event_types": list(subscription.event_types),
        "workflow_id": subscription.workflow_lineage_id,
        "enabled": subscription.enabled,
    }


async def _lineage(session: AsyncSession, caller: Principal, workflow_id: str | None) -> str | None:
    if workflow_id is None:
        return None
    workflow = await get_workflow(session, caller.workspace_id, workflow_id)
    return workflow.lineage_id


async def create(
    db: Database,
    keys: SecretKeys,
    caller: Principal,
    spec: SubscriptionSpec,
    key: IdempotencyRequest | None = None,
    policy: IdempotencyPolicy = KEYS_KEPT,
) -> SubscriptionWithSecret:
    """The new subscription and its secret; a request repeated with its idempotency key
    gets the one it made, with the secret it has now."""
    secret = new_secret(Scheme.STANDARD)

    async def make(session: AsyncSession) -> str:
        subscription = WebhookSubscription(
            workspace_id=caller.workspace_id,
            url=spec.url,
            event_types=list(spec.event_types),
            workflow_lineage_id=await _lineage(session, caller, spec.workflow_id),
            description=spec.description,
            secret=sealed(keys, secret),
            enabled=True,
            failed_attempts=0,
            given_up_in_row=0,
            created_by=caller.subject,
        )
        await queries.add_subscription(session, subscription)
        change = Change(
            "subscription.create", "subscription", subscription.id, None, _summary(subscription)
        )
        await record(session, caller, change)
        return subscription.id

    made = await made_once(db, caller, key, asdict(spec), policy, make)
    subscription = await get(db, caller, made.resource_id)
    if made.replayed:
        secret = opened(keys, subscription.secret)
    return SubscriptionWithSecret(subscription, secret, made.replayed)


async def list_subscriptions(
    db: Database, caller: Principal, page: PageRequest
) -> Page[WebhookSubscription]:
    async with db.read() as session:
        return await queries.list_subscriptions(session, caller.workspace_id, page)


async def get(db: Database, caller: Principal, subscription_id: str) -> WebhookSubscription:
    async with db.read() as session:
        return await queries.get_subscription(session, caller.workspace_id, subscription_id)


async def update(
    db: Database, caller: Principal, subscription_id: str, changes: SubscriptionChanges
) -> WebhookSubscription:
    """Change what the subscription names. Enabling a disabled one clears its failing
    streak and makes its pending deliveries due at once."""
    values = changes.values
    now = utcnow()
    async with db.transaction() as session:
        subscription = await queries.get_subscription(
            session, caller.workspace_id, subscription_id, for_update=True
        )
        before = _summary(subscription)
        if "url" in values:
            subscription.url = values["url"]
        if "event_types" in values:
            subscription.event_types = list(values["event_types"])
        if "description" in values:
            subscription.description = values["description"]
        if "workflow_id" in values:
            subscription.workflow_lineage_id = await _lineage(
                session, caller, values["workflow_id"]
            )
        enabled = values.get("enabled")
        if enabled is True and not subscription.enabled:
            subscription.enabled = True
            subscription.disabled_reason = None
            subscription.disabled_at = None
            subscription.failing_since = None
            subscription.failed_attempts = 0
            subscription.given_up_in_row = 0
            await queries.resume_deliveries(session, subscription.id, now)
        elif enabled is False and subscription.enabled:
            subscription.enabled = False
            subscription.disabled_reason = f"disabled by {caller.subject}"
            subscription.disabled_at = now
            await queries.park_deliveries(session, subscription.id)
        await session.flush()
        after = _summary(subscription)
        await record(
            session,
            caller,
            Change("subscription.update", "subscription", subscription.id, before, after),
        )
    return subscription


async def delete(db: Database, caller: Principal, subscription_id: str) -> None:
    async with db.transaction() as session:
        subscription = await queries.get_subscription(
            session, caller.workspace_id, subscription_id, for_update=True
        )
        before = _summary(subscription)
        await queries.delete_subscription(session, subscription)
        change = Change("subscription.delete", "subscription", subscription_id, before)
        await record(session, caller, change)


async def rotate_secret(
    db: Database, keys: SecretKeys, caller: Principal, subscription_id: str, overlap: timedelta
) -> SubscriptionWithSecret:
    """A new secret; deliveries carry a signature by the old one too for `overlap`, so a
    receiver can switch without refusing any."""
    now = utcnow()
    secret = new_secret(Scheme.STANDARD)
    async with db.transaction() as session:
        subscription = await queries.get_subscription(
            session, caller.workspace_id, subscription_id, for_update=True
        )
        keep = overlap.total_seconds() > 0
        subscription.previous_secret = kept_sealed(keys, subscription.secret) if keep else None
        subscription.previous_expires_at = now + overlap if keep else None
        subscription.secret = sealed(keys, secret)
        subscription.rotated_at = now
        await session.flush()
        after = {"overlap_seconds": int(overlap.total_seconds())}
        change = Change("subscription.rotate", "subscription", subscription_id, None, after)
        await record(session, caller, change)
    return SubscriptionWithSecret(subscription, secret)


async def deliveries(
    db: Database,
    caller: Principal,
    subscription_id: str,
    page: PageRequest,
    status: str | None = None,
) -> Page[DeliveryWithAttempts]:
    async with db.read() as session:
        await queries.get_subscription(session, caller.workspace_id, subscription_id)
        found = await queries.list_deliveries(session, subscription_id, page, status)
        attempts = await queries.attempts_of(session, [d.id for d in found.items])
    items = [DeliveryWithAttempts(d, attempts[d.id]) for d in found.items]
    return Page(items=items, total=found.total, exact=found.exact)
