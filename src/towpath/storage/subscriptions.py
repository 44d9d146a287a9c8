"""Outgoing webhook subscriptions, their deliveries and the attempts made."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from towpath.domain.errors import NotFound
from towpath.storage.models import DeliveryAttempt, SubscriptionDelivery, WebhookSubscription
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.scoped import get_scoped

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"created_at": WebhookSubscription.created_at, "url": WebhookSubscription.url}
DELIVERIES_SORTABLE = {"created_at": SubscriptionDelivery.created_at}
DELIVERY_STATUSES = ("pending", "delivered", "failed")
# The due time of a disabled subscription's pending deliveries: never, until it is enabled
# again, so the dispatcher's look for due deliveries does not step over them every time.
PARKED = datetime(9999, 12, 31, tzinfo=UTC)


class SubscriptionNotFound(NotFound):
    code = "SUBSCRIPTION_NOT_FOUND"

    def __init__(self, subscription_id: str) -> None:
        super().__init__(
            f"subscription {subscription_id!r} not found", details={"id": subscription_id}
        )


async def get_subscription(
    session: AsyncSession, workspace_id: str, subscription_id: str, *, for_update: bool = False
) -> WebhookSubscription:
    return await get_scoped(
        session,
        WebhookSubscription,
        workspace_id,
        subscription_id,
        SubscriptionNotFound,
        for_update=for_update,
    )


async def list_subscriptions(
    session: AsyncSession, workspace_id: str, page: PageRequest
) -> Page[WebhookSubscription]:
    stmt = select(WebhookSubscription).where(WebhookSubscription.workspace_id == workspace_id)
    return await paginate(
        session, stmt, page, SORTABLE, "-created_at", tiebreak=WebhookSubscription.id
    )


async def add_subscription(
    session: AsyncSession, subscription: WebhookSubscription
) -> WebhookSubscription:
    session.add(subscription)
    await session.flush()
    return subscription


async def delete_subscription(session: AsyncSession, subscription: WebhookSubscription) -> None:
    # Explicit, the attempts first: deliveries have no foreign key to cascade from.
    await session.execute(
        delete(DeliveryAttempt).where(DeliveryAttempt.subscription_id == subscription.id)
    )
    await session.execute(
        delete(SubscriptionDelivery).where(SubscriptionDelivery.subscription_id == subscription.id)
    )
    await session.delete(subscription)
    await session.flush()


async def park_deliveries(session: AsyncSession, subscription_id: str) -> None:
    """The pending deliveries of a subscription being disabled wait until it is enabled."""
    await resume_deliveries(session, subscription_id, PARKED)


async def resume_deliveries(session: AsyncSession, subscription_id: str, now: datetime) -> None:
    """The pending deliveries of a subscription enabled again are due at once."""
    await session.execute(
        update(SubscriptionDelivery)
        .where(
            SubscriptionDelivery.subscription_id == subscription_id,
            SubscriptionDelivery.status == "pending",
        )
        .values(next_attempt_at=now)
    )


async def list_deliveries(
    session: AsyncSession, subscription_id: str, page: PageRequest, status: str | None = None
) -> Page[SubscriptionDelivery]:
    stmt = select(SubscriptionDelivery).where(
        SubscriptionDelivery.subscription_id == subscription_id
    )
    if status is not None:
        stmt = stmt.where(SubscriptionDelivery.status == status)
    return await paginate(
        session,
        stmt,
        page,
        DELIVERIES_SORTABLE,
        "-created_at",
        tiebreak=SubscriptionDelivery.id,
    )


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[int]
) -> dict[int, list[DeliveryAttempt]]:
    """Each delivery's attempts, first to last."""
    found: dict[int, list[DeliveryAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    if not delivery_ids:
        return found
    rows = await session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(delivery_ids))
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt, DeliveryAttempt.id)
    )
    for attempt in rows:
        found[attempt.delivery_id].append(attempt)
    return found
