"""The pruner's records beside the runs: old finished rows of each log go, recent and live
ones stay, 0 days keeps them all, and expired idempotency keys go unless one is held."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from tests.retention.trees import NOOP
from tests.runs import API, publish
from tests.triggers.hooks import deliveries, make_trigger
from tests.triggers.schedules import make_schedule
from towpath.domain.clock import utcnow
from towpath.storage.models import (
    Base,
    DeliveryAttempt,
    IdempotencyKey,
    PostedEvent,
    QueuePoller,
    ScheduleFire,
    SubscriptionDelivery,
    WebhookDelivery,
    Workspace,
)
from towpath.triggers.pruner import Pruner

if TYPE_CHECKING:
    from datetime import datetime

    import httpx
    from fastapi import FastAPI

    from towpath.storage.database import Database

OLD = timedelta(days=40)
# A schedule that takes no tick of its own while a test runs.
LATER = {"intervals": [{"every_seconds": 3600}], "start_at": "2099-01-01T00:00:00Z"}


async def _workspace(db: Database) -> str:
    async with db.read() as session:
        return str(await session.scalar(select(Workspace.id)))


async def _count(db: Database, table: type[Base], *where: Any) -> int:
    async with db.read() as session:
        stmt = select(func.count()).select_from(table).where(*where)
        return int(await session.scalar(stmt) or 0)


async def _fires(db: Database, workspace_id: str, schedule_id: str, now: datetime) -> None:
    """Old ticks settled (gone), buffered or with a run in flight (kept), and a new one."""

    def fire(tag: str, at: datetime, outcome: str, *, in_flight: bool = False) -> ScheduleFire:
        return ScheduleFire(
            workspace_id=workspace_id,
            schedule_id=schedule_id,
            scheduled_at=at,
            source="schedule",
            outcome=outcome,
            run_id=None,
            in_flight=in_flight,
            detail=tag,
            created_at=at,
        )

    async with db.transaction() as session:
        session.add_all(
            [
                fire("old skipped", now - OLD, "skipped"),
                fire("old started", now - OLD + timedelta(minutes=1), "started"),
                fire("old failed", now - OLD + timedelta(minutes=2), "failed"),
                fire("old buffered", now - OLD + timedelta(minutes=3), "buffered"),
                fire("old in flight", now - OLD + timedelta(minutes=4), "started", in_flight=True),
                fire("new", now - timedelta(days=1), "skipped"),
            ]
        )


async def _outbox(db: Database, workspace_id: str, now: datetime) -> None:
    """Old deliveries delivered and given up (gone with their attempts), one old but still
    pending, one delivered lately."""
    rows = [
        ("delivered", now - OLD),
        ("failed", now - OLD),
        ("pending", None),
        ("delivered", now - timedelta(days=1)),
    ]
    async with db.transaction() as session:
        for seq, (status, finished_at) in enumerate(rows, start=1):
            delivery = SubscriptionDelivery(
                workspace_id=workspace_id,
                subscription_id="sub-gone",
                event_id=seq,
                run_id="run-kept",
                seq=seq,
                event_type="run.started",
                status=status,
                attempts=1,
                next_attempt_at=now - OLD,
                created_at=now - OLD,
                finished_at=finished_at,
            )
            session.add(delivery)
            await session.flush()
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    subscription_id="sub-gone",
                    attempt=1,
                    outcome="failed",
                    started_at=now - OLD,
                )
            )


async def _keys_and_pollers(db: Database, workspace_id: str, now: datetime) -> None:
    def key(tag: str, expires: datetime, locked: datetime | None, status: int | None) -> Any:
        body = {"id": tag} if status else None
        return IdempotencyKey(
            workspace_id=workspace_id,
            principal="someone",
            key=tag,
            fingerprint="f" * 64,
            locked_at=locked,
            response_status=status,
            response_body=body,
            created_at=expires - timedelta(hours=24),
            expires_at=expires,
        )

    async with db.transaction() as session:
        session.add_all(
            [
                key("expired answered", now - timedelta(hours=1), None, 201),
                key("expired abandoned", now - timedelta(hours=1), now - timedelta(hours=25), None),
                key(
                    "expired but held", now - timedelta(seconds=5), now - timedelta(seconds=5), None
                ),
                key("live answered", now + timedelta(hours=1), None, 201),
                key("live held", now + timedelta(hours=1), now, None),
                QueuePoller(
                    workspace_id=workspace_id, queue="q", worker_id="gone", last_poll_at=now - OLD
                ),
                QueuePoller(
                    workspace_id=workspace_id, queue="q", worker_id="here", last_poll_at=now
                ),
            ]
        )


async def _logs(client: httpx.AsyncClient, sender: httpx.AsyncClient) -> dict[str, Any]:
    """An incoming webhook request (refused: unsigned) and an event posted with an id."""
    trigger = await make_trigger(client)
    refused = await sender.post(trigger["path"], content=b"{}")
    assert refused.status_code >= 400
    posted = await client.post(f"{API}/events", json={"name": "paid", "id": "evt-1", "data": {}})
    assert posted.status_code < 300, posted.text
    return trigger


async def _records(
    client: httpx.AsyncClient, sender: httpx.AsyncClient, db: Database, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A row of every kind, old and new, live and settled: (the schedule, the trigger)."""
    workspace_id = await _workspace(db)
    schedule = await make_schedule(client, await publish(client, NOOP), spec=LATER)
    # Paused: the scheduler running beside the test leaves its buffered tick alone.
    paused = await client.post(f"{API}/schedules/{schedule['id']}/pause", json={})
    assert paused.status_code == 200, paused.text
    await _fires(db, workspace_id, schedule["id"], now)
    await _outbox(db, workspace_id, now)
    await _keys_and_pollers(db, workspace_id, now)
    return schedule, await _logs(client, sender)


async def test_old_finished_records_go_and_live_or_recent_ones_stay(
    app: FastAPI, client: httpx.AsyncClient, sender: httpx.AsyncClient, db: Database
) -> None:
    now = utcnow()
    schedule, trigger = await _records(client, sender, db, now)

    # Thirty days on, what this test made through the API is still recent.
    pruner = Pruner(app.state.runtime, batch=2, pause=0, clock=lambda: now, records_days=30)
    await pruner.run_once()

    assert pruner.records_pruned == {
        "idempotency_keys": 2,
        "webhook_deliveries": 0,
        "posted_events": 0,
        "schedule_fires": 3,
        "queue_pollers": 1,
        "subscription_deliveries": 2,
    }
    fires = await client.get(f"{API}/schedules/{schedule['id']}/fires")
    assert fires.status_code == 200, fires.text
    assert sorted(f["detail"] for f in fires.json()) == ["new", "old buffered", "old in flight"]
    assert await _count(db, SubscriptionDelivery) == 2
    assert await _count(db, SubscriptionDelivery, SubscriptionDelivery.status == "pending") == 1
    assert await _count(db, DeliveryAttempt) == 2
    async with db.read() as session:
        keys = set(await session.scalars(select(IdempotencyKey.key)))
        pollers = set(await session.scalars(select(QueuePoller.worker_id)))
    assert {"expired but held", "live answered", "live held"} <= keys
    assert not {"expired answered", "expired abandoned"} & keys
    assert pollers == {"here"}
    assert len(await deliveries(client, trigger["id"])) == 1
    assert await _count(db, PostedEvent) == 1

    # Past thirty days, the webhook request and the posted event go too.
    later = Pruner(app.state.runtime, pause=0, clock=lambda: now + timedelta(days=31))
    await later.run_once()

    assert later.records_pruned["webhook_deliveries"] == 1
    assert later.records_pruned["posted_events"] == 1
    assert await deliveries(client, trigger["id"]) == []
    assert await _count(db, WebhookDelivery) == 0
    assert await _count(db, PostedEvent) == 0
    left = await client.get(f"{API}/schedules/{schedule['id']}/fires")
    assert sorted(f["detail"] for f in left.json()) == ["old buffered", "old in flight"]
    assert await _count(db, SubscriptionDelivery) == 1


async def test_zero_days_keeps_every_record_but_expired_keys_still_go(
    app: FastAPI, client: httpx.AsyncClient, sender: httpx.AsyncClient, db: Database
) -> None:
    now = utcnow()
    await _records(client, sender, db, now)
    later = now + timedelta(days=400)

    pruner = Pruner(app.state.runtime, pause=0, clock=lambda: later, records_days=0)
    await pruner.run_once()

    assert set(pruner.records_pruned) == {"idempotency_keys"}
    assert await _count(db, ScheduleFire) == 6
    assert await _count(db, SubscriptionDelivery) == 4
    assert await _count(db, DeliveryAttempt) == 4
    assert await _count(db, QueuePoller) == 2
    assert await _count(db, WebhookDelivery) == 1
    assert await _count(db, PostedEvent) == 1
    # A year on, every key has expired, and none is held any more.
    assert await _count(db, IdempotencyKey, IdempotencyKey.expires_at > later) == 0
    assert await _count(db, IdempotencyKey) == 0
