"""Signing secrets of webhook triggers and subscriptions are stored encrypted: after
creation and rotation the rows hold no secret, deliveries still verify and are still
signed, a row written before encryption still works and is encrypted at the next start,
and rotating the server's keys keeps every secret readable."""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import String, text

from tests.factories import node
from tests.runs import API, admin_headers, publish, start
from tests.test_worker_process import _free_port, _start
from tests.triggers.hooks import anonymous, deliveries, make_trigger, standard_signed
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
from tests.waiting import eventually
from towpath.app import create_app
from towpath.services.secrets import reencrypt_all
from towpath.steps.egress import EgressPolicy
from towpath.steps.http_client import step_session
from towpath.storage.hook_secrets import SEALED_PREFIX, opened, seal_plain_secrets, sealed
from towpath.storage.models import WebhookSubscription, WebhookTrigger
from towpath.storage.secret_keys import SecretKeys, load_secret_keys
from towpath.triggers.outbox import Outbox
from towpath.triggers.outbox_settings import OutboxSettings
from towpath.triggers.signatures import Scheme, new_secret

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from fastapi import FastAPI

    from towpath.config import Settings
    from towpath.storage.database import Database

__all__ = ["receiver"]

TRIGGERS = f"{API}/triggers/webhooks"
BODY = b'{"n": 1}'
ONE_STEP = {"nodes": [node("only", "transform", {"output": {"n": 1}})], "edges": []}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No worker, so no dispatcher of the app's own: the tests make the outbox's passes.
    return settings.model_copy(update={"run_worker": False})


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[FastAPI]:
    """Another server process on the same database, started and stopped here."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = await admin_headers(app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://towpath.test", headers=headers
    ) as c:
        yield c


async def stored(db: Database, table: str, row_id: str) -> tuple[str, str | None]:
    """The row's `secret` and `previous_secret` as the database holds them."""
    async with db.read() as session:
        found = await session.execute(
            text(f"SELECT secret, previous_secret FROM {table} WHERE id = :id"),  # noqa: S608
            {"id": row_id},
        )
        secret, previous = found.one()
    return secret, previous


async def store_plain(db: Database, table: str, row_id: str, secret: str, previous: str) -> None:
    """What a row written before secrets were encrypted holds."""
    async with db.transaction() as session:
        await session.execute(
            text(f"UPDATE {table} SET secret = :s, previous_secret = :p WHERE id = :id"),  # noqa: S608
            {"s": secret, "p": previous, "id": row_id},
        )


async def deliver(app: FastAPI, path: str, secret: str, message_id: str) -> int:
    async for sender in anonymous(app):
        answered = await sender.post(
            path, content=BODY, headers=standard_signed(secret, BODY, message_id)
        )
        return answered.status_code
    raise AssertionError("no sender")  # pragma: no cover


async def one_pass(app: FastAPI, client: httpx.AsyncClient) -> None:
    """Start a run and make one outbox pass."""
    async with step_session(EgressPolicy.parse(["127.0.0.0/8"])) as http:
        box = Outbox(app.state.db, http, OutboxSettings(), app.state.secret_keys, HandClock())
        await start(client, await publish(client, ONE_STEP))
        await box.deliver_due()


async def one_delivery(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver, name: str
) -> Any:
    """What the receiver got at `/hooks/{name}` from one run's delivery."""
    await one_pass(app, client)
    return receiver.accepted(name)[-1]


async def test_trigger_secrets_are_stored_encrypted_and_still_verify(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    made = await make_trigger(client)
    old = made["secret"]
    secret, previous = await stored(db, "webhook_triggers", made["id"])
    assert secret.startswith(SEALED_PREFIX)
    assert old not in secret
    assert previous is None

    rotated = await client.post(f"{TRIGGERS}/{made['id']}/rotate-secret")
    new = rotated.json()["secret"]
    secret, previous = await stored(db, "webhook_triggers", made["id"])

    assert rotated.status_code == 200
    assert secret.startswith(SEALED_PREFIX)
    assert previous is not None
    assert previous.startswith(SEALED_PREFIX)
    assert not {old, new} & {secret, previous}
    assert old not in secret + previous
    assert new not in secret + previous
    assert await deliver(app, made["path"], old, "by-old") == 201
    assert await deliver(app, made["path"], new, "by-new") == 201
    assert await deliver(app, made["path"], "whsec_" + "A" * 44, "by-neither") == 401


async def test_subscription_secrets_are_stored_encrypted_and_still_sign(
    app: FastAPI, client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    name = hook_name()
    made = await subscribe(client, receiver.url_for(name), ["run.completed"])
    secret, _ = await stored(db, "webhook_subscriptions", made["id"])
    assert secret.startswith(SEALED_PREFIX)
    assert made["secret"] not in secret

    rotated = await client.post(f"{SUBSCRIPTIONS}/{made['id']}/rotate-secret")
    new = rotated.json()["secret"]
    secret, previous = await stored(db, "webhook_subscriptions", made["id"])
    got = await one_delivery(app, client, receiver, name)

    assert secret.startswith(SEALED_PREFIX)
    assert previous is not None
    assert previous.startswith(SEALED_PREFIX)
    assert not {made["secret"], new} & {secret, previous}
    assert verify(new, got.headers, got.body)
    assert verify(made["secret"], got.headers, got.body)
    assert len(got.headers["webhook-signature"].split()) == 2


async def test_a_plain_trigger_secret_verifies_and_is_encrypted_at_the_next_start(
    app: FastAPI, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    made = await make_trigger(client)
    rotated = (await client.post(f"{TRIGGERS}/{made['id']}/rotate-secret")).json()
    await store_plain(db, "webhook_triggers", made["id"], rotated["secret"], made["secret"])

    assert await deliver(app, made["path"], rotated["secret"], "plain-new") == 201
    assert await deliver(app, made["path"], made["secret"], "plain-old") == 201

    async with running(settings) as restarted:
        secret, previous = await stored(db, "webhook_triggers", made["id"])
        assert secret.startswith(SEALED_PREFIX)
        assert previous is not None
        assert previous.startswith(SEALED_PREFIX)
        assert await deliver(restarted, made["path"], rotated["secret"], "sealed-new") == 201
        assert await deliver(restarted, made["path"], made["secret"], "sealed-old") == 201
    outcomes = [d["outcome"] for d in await deliveries(client, made["id"])]
    assert outcomes == ["accepted"] * 4


async def test_a_worker_encrypts_plain_secrets_as_it_starts(
    app: FastAPI, client: httpx.AsyncClient, db: Database, database_url: str, tmp_path: Path
) -> None:
    made = await make_trigger(client)
    await store_plain(db, "webhook_triggers", made["id"], made["secret"], made["secret"])
    env = {**os.environ, "TOWPATH_DATABASE_URL": database_url, "TOWPATH_HOST": "127.0.0.1"}
    worker = _start(["worker", "--metrics-port", str(_free_port())], env, tmp_path / "w.log")
    try:

        async def encrypted() -> bool:
            secret, previous = await stored(db, "webhook_triggers", made["id"])
            return secret.startswith(SEALED_PREFIX) and str(previous).startswith(SEALED_PREFIX)

        await eventually(encrypted, 60, "the worker encrypting the plain secrets as it starts")
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 30)
    assert await deliver(app, made["path"], made["secret"], "after-worker") == 201


async def test_a_plain_subscription_secret_signs_and_is_encrypted_by_the_pass(
    app: FastAPI, client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    name = hook_name()
    made = await subscribe(client, receiver.url_for(name), ["run.completed"])
    plain = new_secret(Scheme.STANDARD)
    await store_plain(db, "webhook_subscriptions", made["id"], plain, "whsec_unused")

    before = await one_delivery(app, client, receiver, name)
    sealed_now = await seal_plain_secrets(db, app.state.secret_keys)
    secret, previous = await stored(db, "webhook_subscriptions", made["id"])
    after = await one_delivery(app, client, receiver, name)

    assert verify(plain, before.headers, before.body)
    assert sealed_now == 2
    assert secret.startswith(SEALED_PREFIX)
    assert previous is not None
    assert previous.startswith(SEALED_PREFIX)
    assert opened(app.state.secret_keys, secret) == plain
    assert verify(plain, after.headers, after.body)
    assert await seal_plain_secrets(db, app.state.secret_keys) == 0


async def test_rotating_the_servers_keys_keeps_signing_secrets_readable(
    settings: Settings, receiver: Receiver
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with running(settings.model_copy(update={"secrets_key": old})) as first:
        async with admin(first) as client:
            trigger = await make_trigger(client)
            name = hook_name()
            subscription = await subscribe(client, receiver.url_for(name), ["run.completed"])
        db: Database = first.state.db
        with_old, _ = await stored(db, "webhook_triggers", trigger["id"])

    both = settings.model_copy(update={"secrets_key": f"{new},{old}"})
    async with running(both) as second, admin(second) as client:
        assert await deliver(second, trigger["path"], trigger["secret"], "both-keys") == 201
        got = await one_delivery(second, client, receiver, name)
        assert verify(subscription["secret"], got.headers, got.body)
        db = second.state.db
        assert await reencrypt_all(db, second.state.secret_keys) == 2
        secret, _ = await stored(db, "webhook_triggers", trigger["id"])
        hook_secret, _ = await stored(db, "webhook_subscriptions", subscription["id"])

    only_new = SecretKeys([new.encode()])
    assert secret != with_old
    assert opened(only_new, secret) == trigger["secret"]
    assert opened(only_new, hook_secret) == subscription["secret"]
    async with running(settings.model_copy(update={"secrets_key": new})) as third:
        assert await deliver(third, trigger["path"], trigger["secret"], "new-key") == 201


async def test_a_secret_no_key_decrypts_refuses_the_delivery(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    made = await make_trigger(client)
    async with db.transaction() as session:
        trigger = await session.get(WebhookTrigger, made["id"])
        assert trigger is not None
        trigger.secret = sealed(SecretKeys([Fernet.generate_key()]), made["secret"])

    assert await deliver(app, made["path"], made["secret"], "unreadable") == 401
    (logged,) = await deliveries(client, made["id"])
    assert logged["outcome"] == "refused"
    assert logged["reason"] == "secret_unreadable"


async def test_a_subscription_secret_no_key_decrypts_fails_the_attempt_unsent(
    app: FastAPI, client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    name = hook_name()
    made = await subscribe(client, receiver.url_for(name), ["run.completed"])
    async with db.transaction() as session:
        subscription = await session.get(WebhookSubscription, made["id"])
        assert subscription is not None
        subscription.secret = sealed(SecretKeys([Fernet.generate_key()]), made["secret"])

    await one_pass(app, client)

    assert receiver.accepted(name) == []
    assert receiver.refused(name) == 0
    (delivery,) = await deliveries_of(client, made["id"])
    (attempt,) = delivery["attempts"]
    assert attempt["outcome"] == "failed"
    assert "cannot be read with the server's keys" in attempt["error"]


async def test_the_longest_sealed_secret_fits_its_column(db: Database) -> None:
    keys = await load_secret_keys(db, Fernet.generate_key().decode())
    room = min(
        column.type.length
        for table in (WebhookTrigger, WebhookSubscription)
        for column in (table.__table__.c.secret, table.__table__.c.previous_secret)
        if isinstance(column.type, String) and column.type.length is not None
    )
    longest = max(len(sealed(keys, new_secret(scheme))) for scheme in Scheme for _ in range(5))
    assert longest <= room
