"""The dispatcher's rules, with a clock moved by hand: the backoff schedule and giving up,
a run's events behind its first undelivered one, a claim a dead process left, disabling
a subscription that keeps failing (and enabling it again), signatures across a rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from tests.factories import node
from tests.runs import API, publish, start
from tests.tenants import other_workspace
from tests.triggers.receiver import (
    SUBSCRIPTIONS,
    HandClock,
    Receiver,
    deliveries_of,
    hook_name,
    receiver,
    subscribe,
    verify,
)
from towpath.steps.egress import EgressPolicy
from towpath.steps.http_client import step_session
from towpath.storage import outbox as queries
from towpath.storage.models import SubscriptionDelivery
from towpath.triggers.outbox import Outbox
from towpath.triggers.outbox_settings import OutboxSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import aiohttp
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings
    from towpath.storage.database import Database
    from towpath.storage.secret_keys import SecretKeys

__all__ = ["receiver"]

ONE_STEP = {"nodes": [node("only", "transform", {"output": {"n": 1}})], "edges": []}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No worker, so no dispatcher of the app's own: the test makes its passes. Transform
    # steps still run, inside the start's transaction.
    return settings.model_copy(update={"run_worker": False})


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with step_session(EgressPolicy.parse(["127.0.0.0/8"])) as client:
        yield client


@pytest.fixture
def keys(app: FastAPI) -> SecretKeys:
    found: SecretKeys = app.state.secret_keys
    return found


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


def outbox(
    db: Database, keys: SecretKeys, http: aiohttp.ClientSession, clock: HandClock, **rules: Any
) -> Outbox:
    return Outbox(db, http, OutboxSettings(**rules), keys, clock)


async def _count(db: Database) -> int:
    async with db.read() as session:
        return int(
            await session.scalar(select(func.count()).select_from(SubscriptionDelivery)) or 0
        )


async def _subscription(client: httpx.AsyncClient, subscription_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await client.get(f"{SUBSCRIPTIONS}/{subscription_id}")).json()
    return found


async def test_failed_attempts_follow_the_schedule_then_the_delivery_is_given_up(
    client: httpx.AsyncClient,
    db: Database,
    http: aiohttp.ClientSession,
    keys: SecretKeys,
    clock: HandClock,
    receiver: Receiver,
) -> None:
    box = outbox(db, keys, http, clock, outbox_retry_seconds=[5, 30])
    made = await subscribe(client, receiver.url_for(hook_name()), ["run.completed"])
    receiver.status = 503
    await start(client, await publish(client, ONE_STEP))

    sent = [await box.deliver_due()]
    sent.append(await box.deliver_due())
    clock.advance(4.9)
    sent.append(await box.deliver_due())
    clock.advance(0.1)
    sent.append(await box.deliver_due())
    clock.advance(30)
    sent.append(await box.deliver_due())
    clock.advance(24 * 3600)
    sent.append(await box.deliver_due())

    assert sent == [1, 0, 0, 1, 1, 0]
    (delivery,) = await deliveries_of(client, made["id"])
    assert (delivery["status"], delivery["attempt_count"]) == ("failed", 3)
    assert delivery["next_attempt_at"] is None
    assert delivery["last_status_code"] == 503
    times = [a["started_at"] for a in delivery["attempts"]]
    assert [a["outcome"] for a in delivery["attempts"]] == ["failed"] * 3
    assert len(set(times)) == 3
    assert len(receiver.requests) == 3


async def test_a_runs_events_wait_behind_its_first_undelivered_one(
    client: httpx.AsyncClient,
    db: Database,
    http: aiohttp.ClientSession,
    keys: SecretKeys,
    clock: HandClock,
    receiver: Receiver,
) -> None:
    box = outbox(db, keys, http, clock, outbox_retry_seconds=[5] * 10)
    name = hook_name()
    types = ["run.started", "step.completed", "run.completed"]
    await subscribe(client, receiver.url_for(name), types)
    receiver.status = 503
    workflow_id = await publish(client, ONE_STEP)
    runs = [await start(client, workflow_id) for _ in range(2)]

    first = await box.deliver_due()
    receiver.status = 200
    clock.advance(5)
    while await box.deliver_due():
        pass

    assert first == 2
    assert [r.json["type"] for r in receiver.requests[:2]] == ["run.started", "run.started"]
    for run in runs:
        got = [
            r.json["type"] for r in receiver.accepted(name) if r.json["data"]["run_id"] == run["id"]
        ]
        assert got == types


async def test_a_claim_left_by_a_process_that_died_comes_due_again(
    client: httpx.AsyncClient,
    db: Database,
    http: aiohttp.ClientSession,
    keys: SecretKeys,
    clock: HandClock,
    receiver: Receiver,
) -> None:
    box = outbox(db, keys, http, clock, outbox_timeout_seconds=10)
    name = hook_name()
    await subscribe(client, receiver.url_for(name), ["run.completed"])
    await start(client, await publish(client, ONE_STEP))
    # What a process that claimed the delivery and died before sending it leaves behind.
    async with db.transaction() as session:
        now = clock()
        lease = now + timedelta(seconds=20)
        claimed = await queries.claim_due(session, now, lease, 10, skip_locked=not db.is_sqlite)

    before_it_lapses = await box.deliver_due()
    clock.advance(20)
    after = await box.deliver_due()

    assert len(claimed) == 1
    assert (before_it_lapses, after) == (0, 1)
    assert len(receiver.accepted(name)) == 1


async def test_a_subscription_failing_for_a_day_is_disabled_and_says_why(
    client: httpx.AsyncClient,
    db: Database,
    http: aiohttp.ClientSession,
    keys: SecretKeys,
    clock: HandClock,
    receiver: Receiver,
) -> None:
    box = outbox(db, keys, http, clock, outbox_retry_seconds=[3600] * 48)
    name = hook_name()
    made = await subscribe(client, receiver.url_for(name), ["run.completed"])
    workflow_id = await publish(client, ONE_STEP)
    receiver.status = 503
    await start(client, workflow_id)

    await box.deliver_due()
    for _ in range(23):
        clock.advance(3600)
        await box.deliver_due()
    still_on = await _subscription(client, made["id"])
    clock.advance(3600)
    await box.deliver_due()
    disabled = await _subscription(client, made["id"])
    queued = await _count(db)
    await start(client, workflow_id)
    clock.advance(3600)

    assert still_on["enabled"] is True
    assert still_on["failed_attempts"] == 24
    assert disabled["enabled"] is False
    assert "every delivery attempt has failed since" in disabled["disabled_reason"]
    assert "(25 attempts)" in disabled["disabled_reason"]
    assert disabled["disabled_at"] is not None
    # Disabled, it sends nothing and queues nothing new; what is pending waits for it.
    assert await box.deliver_due() == 0
    (parked,) = await deliveries_of(client, made["id"])
    assert (parked["status"], parked["next_attempt_at"]) == ("pending", None)
    assert await _count(db) == queued == 1
    audit = (await client.get(f"{API}/audit", params={"action": "subscription.disable"})).json()
    assert [(e["action"], e["actor"]) for e in audit] == [("subscription.disable", "system:outbox")]
    assert audit[0]["after"]["disabled_reason"] == disabled["disabled_reason"]

    # Enabled again, the pending delivery goes at once and the streak starts over.
    receiver.status = 200
    enabled = await client.patch(f"{SUBSCRIPTIONS}/{made['id']}", json={"enabled": True})
    assert enabled.json()["failed_attempts"] == 0
    assert await box.deliver_due() == 1
    assert len(receiver.accepted(name)) == 1


async def test_deliveries_given_up_in_a_row_disable_the_subscription(
    client: httpx.AsyncClient,
    db: Database,
    http: aiohttp.ClientSession,
    keys: SecretKeys,
    clock: HandClock,
    receiver: Receiver,
) -> None:
    box = outbox(db, keys, http, clock, outbox_retry_seconds=[1], outbox_disable_after_given_up=2)
    made = await subscribe(client, receiver.url_for(hook_name()), ["run.completed"])
    workflow_id = await publish(client, ONE_STEP)
    receiver.status = 503
    for _ in range(3):
        await start(client, workflow_id)

    assert await box.deliver_due() == 3
    clock.advance(1)
    assert await box.deliver_due() == 3

    found = await _subscription(client, made["id"])
    assert found["enabled"] is False
    assert found["disabled_reason"].startswith("2 deliveries in a row were given up")
    statuses = [d["status"] for d in await deliveries_of(client, made["id"])]
    assert statuses == ["failed"] * 3


async def test_a_rotated_secret_signs_beside_the_new_one_until_its_overlap_ends(
    client: httpx.AsyncClient,
    db: Database,
    http: aiohttp.ClientSession,
    keys: SecretKeys,
    clock: HandClock,
    receiver: Receiver,
) -> None:
    box = outbox(db, keys, http, clock)
    name = hook_name()
    made = await subscribe(client, receiver.url_for(name), ["run.completed"])
    rotated = (
        await client.post(
            f"{SUBSCRIPTIONS}/{made['id']}/rotate-secret", json={"overlap_seconds": 60}
        )
    ).json()
    workflow_id = await publish(client, ONE_STEP)

    await start(client, workflow_id)
    await box.deliver_due()
    clock.advance(61)
    await start(client, workflow_id)
    await box.deliver_due()

    during, after = receiver.accepted(name)
    assert len(during.headers["webhook-signature"].split()) == 2
    assert verify(made["secret"], during.headers, during.body)
    assert verify(rotated["secret"], during.headers, during.body)
    assert len(after.headers["webhook-signature"].split()) == 1
    assert verify(rotated["secret"], after.headers, after.body)
    assert not verify(made["secret"], after.headers, after.body)


async def test_events_reach_only_enabled_subscriptions_of_their_own_workspace(
    client: httpx.AsyncClient,
    app: FastAPI,
    db: Database,
    http: aiohttp.ClientSession,
    keys: SecretKeys,
    clock: HandClock,
    receiver: Receiver,
) -> None:
    box = outbox(db, keys, http, clock)
    mine, paused, theirs = hook_name(), hook_name(), hook_name()
    await subscribe(client, receiver.url_for(mine), ["run.completed"])
    off = await subscribe(client, receiver.url_for(paused), ["run.completed"])
    await client.patch(f"{SUBSCRIPTIONS}/{off['id']}", json={"enabled": False})
    async with other_workspace(app) as neighbour:
        await subscribe(neighbour, receiver.url_for(theirs), ["run.completed"])
        run = await start(client, await publish(client, ONE_STEP))

        while await box.deliver_due():
            pass
        theirs_listed = (await neighbour.get(SUBSCRIPTIONS)).json()

    assert [r.json["data"]["run_id"] for r in receiver.accepted(mine)] == [run["id"]]
    assert receiver.accepted(paused) == receiver.accepted(theirs) == []
    assert await _count(db) == 1
    assert len(theirs_listed) == 1
