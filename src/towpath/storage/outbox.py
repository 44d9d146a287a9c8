"""The dispatcher's queries: claiming due deliveries, reading what to send, locking the
subscription whose streak an attempt changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, literal_column, select, update
from sqlalchemy.orm import aliased

from towpath.storage.models import Run, RunEvent, SubscriptionDelivery, WebhookSubscription

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

D = SubscriptionDelivery
S = WebhookSubscription
# A literal, not a parameter, so SQLite sees the partial index's own condition.
PENDING: Any = literal_column("'pending'")


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery with what its request is made of."""

    id: int
    subscription_id: str
    run_id: str
    seq: int
    event_type: str
    url: str
    secret: str
    previous_secret: str | None
    previous_expires_at: datetime | None
    # None when the event is gone (its run was deleted).
    workflow_id: str | None
    step_id: str | None
    data: dict[str, Any] | None
    timestamp: datetime | None


def _due(now: datetime) -> Any:
    """Pending deliveries of enabled subscriptions that are due and first of their run
    for their subscription: a run's events go out in seq order."""
    earlier = aliased(SubscriptionDelivery)
    head = ~exists().where(
        earlier.subscription_id == D.subscription_id,
        earlier.run_id == D.run_id,
        earlier.status == PENDING,
        earlier.seq < D.seq,
    )
    return (
        select(D.id)
        .join(S, S.id == D.subscription_id)
        .where(D.status == PENDING, D.next_attempt_at <= now, S.enabled.is_(True), head)
    )


async def any_enabled(session: AsyncSession) -> bool:
    found = await session.scalar(select(S.id).where(S.enabled.is_(True)).limit(1))
    return found is not None


async def any_due(session: AsyncSession, now: datetime) -> bool:
    found = await session.scalar(_due(now).limit(1))
    return found is not None


async def claim_due(
    session: AsyncSession,
    now: datetime,
    lease_until: datetime,
    limit: int,
    *,
    skip_locked: bool,
) -> list[int]:
    """Due deliveries (see `_due`), held until `lease_until`: another claim passes them
    by, and if this process dies they come due again then."""
    pick = _due(now).order_by(D.next_attempt_at, D.id).limit(limit)
    if skip_locked:
        pick = pick.with_for_update(of=D, skip_locked=True)
    ids = list((await session.scalars(pick)).all())
    if ids:
        await session.execute(update(D).where(D.id.in_(ids)).values(next_attempt_at=lease_until))
    return ids


async def load_outgoing(session: AsyncSession, ids: Sequence[int]) -> list[Outgoing]:
    if not ids:
        return []
    rows = await session.execute(
        select(
            D.id,
            D.subscription_id,
            D.run_id,
            D.seq,
            D.event_type,
            S.url,
            S.secret,
            S.previous_secret,
            S.previous_expires_at,
            Run.workflow_id,
            RunEvent.step_id,
            RunEvent.data,
            RunEvent.created_at.label("timestamp"),
        )
        .join(S, S.id == D.subscription_id)
        .outerjoin(RunEvent, RunEvent.id == D.event_id)
        .outerjoin(Run, Run.id == D.run_id)
        .where(D.id.in_(ids))
        .order_by(D.id)
    )
    return [Outgoing(**row._mapping) for row in rows]


async def lock_subscription(
    session: AsyncSession, subscription_id: str, *, for_update: bool
) -> WebhookSubscription | None:
    stmt = select(S).where(S.id == subscription_id)
    if for_update:
        # NO KEY UPDATE: the lock the update of its streak takes anyway, held from the
        # read so two attempts' results count one after the other.
        stmt = stmt.with_for_update(key_share=True)
    found: WebhookSubscription | None = await session.scalar(stmt)
    return found


async def get_delivery(session: AsyncSession, delivery_id: int) -> SubscriptionDelivery | None:
    found: SubscriptionDelivery | None = await session.get(D, delivery_id)
    return found


async def release(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    await session.execute(
        update(D).where(D.id.in_(ids), D.status == PENDING).values(next_attempt_at=now)
    )


async def hold_followers(
    session: AsyncSession, subscription_id: str, run_id: str, seq: int, until: datetime
) -> None:
    """The run's later deliveries to the subscription wait for the one before them: not
    due before it is, so a look for due deliveries does not step over them meanwhile."""
    await session.execute(
        update(D)
        .where(
            D.subscription_id == subscription_id,
            D.run_id == run_id,
            D.status == PENDING,
            D.seq > seq,
            D.next_attempt_at < until,
        )
        .values(next_attempt_at=until)
    )
