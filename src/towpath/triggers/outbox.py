"""The dispatcher: sends the outbox's due deliveries, signed the Standard Webhooks way,
through the egress guard, and records each attempt; retries with backoff, gives up after
the schedule, and disables a subscription that keeps failing.

Delivery is at least once: a send whose result was not recorded (the process died) is
sent again once its claim lapses, with the same `webhook-id`, so a receiver can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp

from towpath.auth.principal import Principal
from towpath.domain.clock import utcnow
from towpath.services.audit import Change, record
from towpath.steps.egress import DestinationRefused
from towpath.steps.http_client import step_session
from towpath.steps.services import egress_policy
from towpath.storage import outbox as queries
from towpath.storage.hook_secrets import opened
from towpath.storage.models import DeliveryAttempt
from towpath.storage.secret_keys import SecretUnreadable
from towpath.storage.subscriptions import park_deliveries
from towpath.triggers.signatures import sign_standard

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.events.bus import EventBus, PublishedEvent
    from towpath.steps.settings import StepSettings
    from towpath.storage.database import Database
    from towpath.storage.models import WebhookSubscription
    from towpath.storage.outbox import Outgoing
    from towpath.storage.secret_keys import SecretKeys
    from towpath.triggers.outbox_settings import OutboxSettings

log = logging.getLogger("towpath.outbox")

# The most of a receiver's answer an attempt reads and keeps in its error.
ANSWER_BYTES = 4096
ERROR_CHARS = 500
# A claim lasts the send's timeout and this much more (to record the attempt) before
# another process may take it: only a process that died holds one that long.
CLAIM_MARGIN = timedelta(seconds=10)
USER_AGENT = "towpath-webhooks"


@dataclass(frozen=True)
class Sent:
    """What one attempt came to."""

    # "delivered", "failed", or "refused" (the guard kept it from the address: not sent).
    outcome: str
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"


def payload(item: Outgoing) -> dict[str, Any]:
    timestamp = item.timestamp.isoformat() if item.timestamp is not None else None
    return {
        "type": item.event_type,
        "timestamp": timestamp,
        "data": {
            "run_id": item.run_id,
            "workflow_id": item.workflow_id,
            "seq": item.seq,
            "step_id": item.step_id,
            "data": item.data,
        },
    }


def message_id(run_id: str, seq: int) -> str:
    """The same for every attempt of a delivery, and for the event at every subscription."""
    return f"msg_{run_id}_{seq}"


def signing_secrets(item: Outgoing, now: datetime, keys: SecretKeys) -> list[str]:
    """The current secret, and the one before a rotation while its overlap lasts: a
    receiver still holding the old one verifies the delivery by its signature. Decrypted
    here, to sign; `SecretUnreadable` if no key decrypts one."""
    found = [opened(keys, item.secret)]
    if (
        item.previous_secret is not None
        and item.previous_expires_at is not None
        and now < item.previous_expires_at
    ):
        found.append(opened(keys, item.previous_secret))
    return found


def signed_request(item: Outgoing, now: datetime, keys: SecretKeys) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload(item), separators=(",", ":")).encode()
    msg_id = message_id(item.run_id, item.seq)
    stamp = int(now.timestamp())
    secrets = signing_secrets(item, now, keys)
    signatures = " ".join(sign_standard(s, msg_id, stamp, body) for s in secrets)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signatures,
    }
    return headers, body


def retry_wait(schedule: list[float], attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt, or None: give up."""
    if attempts > len(schedule):
        return None
    return timedelta(seconds=schedule[attempts - 1])


def disable_reason(
    subscription: WebhookSubscription, now: datetime, settings: OutboxSettings
) -> str | None:
    """Why a subscription that just failed again is to be disabled, if it is."""
    if subscription.given_up_in_row >= settings.outbox_disable_after_given_up:
        return (
            f"{subscription.given_up_in_row} deliveries in a row were given up after every"
            " retry failed"
        )
    since = subscription.failing_since
    limit = timedelta(seconds=settings.outbox_disable_after_seconds)
    if since is not None and now - since >= limit:
        return (
            f"every delivery attempt has failed since {since.isoformat()}"
            f" ({subscription.failed_attempts} attempts)"
        )
    return None


class Outbox:
    """Sends due deliveries; `deliver_due` is one pass, `run` the loop around it."""

    def __init__(
        self,
        db: Database,
        http: aiohttp.ClientSession,
        settings: OutboxSettings,
        keys: SecretKeys,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._http = http
        self._settings = settings
        # What decrypts the subscriptions' signing secrets.
        self._keys = keys
        self._clock = clock
        self._wake = asyncio.Event()
        # Whether any subscription is enabled, as the last pass saw: without one, the
        # engine's events need not wake the dispatcher.
        self._watching = True
        # Claimed and not yet recorded: handed back if the process stops meanwhile.
        self._in_flight: set[int] = set()
        # Stopping cancels only the requests out, never a transaction half done.
        self._stopping = False
        self._sends: set[asyncio.Task[Sent]] = set()

    def wake(self) -> None:
        self._wake.set()

    def on_event(self, event: PublishedEvent) -> None:
        """A committed event may have filled the outbox: look at once, not at the next poll."""
        if self._watching:
            self._wake.set()

    async def deliver_due(self) -> int:
        """Claim what is due, send it, record each attempt; how many were sent."""
        now = self._clock()
        # Looked at in a read first: on SQLite a write transaction holds the one write
        # lock the engine commits under, so none is taken when nothing is due.
        async with self._db.read() as session:
            self._watching = await queries.any_enabled(session)
            if not self._watching or not await queries.any_due(session, now):
                return 0
        lease = timedelta(seconds=self._settings.outbox_timeout_seconds) + CLAIM_MARGIN
        async with self._db.transaction() as session:
            ids = await queries.claim_due(
                session,
                now,
                now + lease,
                self._settings.outbox_concurrency,
                skip_locked=not self._db.is_sqlite,
            )
            outgoing = await queries.load_outgoing(session, ids)
        self._in_flight.update(ids)
        results = await asyncio.gather(
            *(self._deliver(item) for item in outgoing), return_exceptions=True
        )
        for item, result in zip(outgoing, results, strict=True):
            if isinstance(result, Exception):
                # Its claim lapses and it is sent again.
                log.warning("recording delivery %s failed", item.id, exc_info=result)
        return len(outgoing)

    async def run(self) -> None:
        """Until `stop()`: a pass whenever woken or every poll interval, at once again
        after a pass that sent something."""
        while not self._stopping:
            self._wake.clear()
            try:
                sent = await self.deliver_due()
            except Exception:
                log.warning("delivering webhooks failed; trying again", exc_info=True)
                sent = 0
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.outbox_poll_seconds):
                    await self._wake.wait()

    def stop(self) -> None:
        """End `run` soon: requests out are abandoned (and handed back by `release`)."""
        self._stopping = True
        self._wake.set()
        for send in self._sends:
            send.cancel()

    async def release(self) -> None:
        """Hand back what was claimed and not recorded, due at once: a process stopping
        mid-send leaves it to the next one without waiting for the claim to lapse."""
        if not self._in_flight:
            return
        async with self._db.transaction() as session:
            await queries.release(session, sorted(self._in_flight), self._clock())
        self._in_flight.clear()

    async def _deliver(self, item: Outgoing) -> None:
        started = self._clock()
        if item.data is None:
            sent = Sent("failed", error="the event no longer exists (its run was deleted)")
        else:
            if self._stopping:
                return
            send = asyncio.create_task(self._send(item, started))
            self._sends.add(send)
            try:
                sent = await send
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if send.cancelled() and current is not None and not current.cancelling():
                    return  # stopped: `release` hands it back
                raise
            finally:
                self._sends.discard(send)
        await self._record(item, sent, started)
        self._in_flight.discard(item.id)

    async def _send(self, item: Outgoing, now: datetime) -> Sent:
        try:
            headers, body = signed_request(item, now, self._keys)
        except SecretUnreadable:
            error = "the subscription's secret cannot be read with the server's keys: not sent"
            return Sent("failed", error=error)
        began = time.perf_counter()

        def took() -> int:
            return round((time.perf_counter() - began) * 1000)

        seconds = self._settings.outbox_timeout_seconds
        try:
            # The whole exchange, not each read: a receiver dripping bytes cannot outlast
            # the claim.
            async with (
                asyncio.timeout(seconds),
                self._http.post(
                    item.url,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=seconds),
                ) as response,
            ):
                answer = await _first_bytes(response)
        except DestinationRefused as exc:
            return Sent("refused", latency_ms=took(), error=str(exc))
        except TimeoutError:
            return Sent("failed", latency_ms=took(), error=f"no answer within {seconds:g} s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return Sent("failed", latency_ms=took(), error=f"{type(exc).__name__}: {exc}"[:500])
        code = response.status
        if 200 <= code < 300:
            return Sent("delivered", code, took())
        text = answer.decode(errors="replace")[:ERROR_CHARS]
        return Sent("failed", code, took(), f"{code} {response.reason or ''}: {text}".strip())

    async def _record(self, item: Outgoing, sent: Sent, started: datetime) -> None:
        now = self._clock()
        lock = not self._db.is_sqlite
        async with self._db.transaction() as session:
            # The subscription first: attempts of its deliveries change its streak in turn.
            subscription = await queries.lock_subscription(
                session, item.subscription_id, for_update=lock
            )
            delivery = await queries.get_delivery(session, item.id)
            if subscription is None or delivery is None:
                return  # deleted while the request was out
            attempt = delivery.attempts + 1
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    subscription_id=subscription.id,
                    attempt=attempt,
                    outcome=sent.outcome,
                    status_code=sent.status_code,
                    latency_ms=sent.latency_ms,
                    error=sent.error,
                    started_at=started,
                )
            )
            if delivery.status != "pending":
                # Sent twice (a claim lapsed while the first send was out): already settled.
                return
            delivery.attempts = attempt
            delivery.last_status_code = sent.status_code
            delivery.last_error = sent.error
            if sent.delivered:
                delivery.status = "delivered"
                delivery.finished_at = now
                subscription.failing_since = None
                subscription.failed_attempts = 0
                subscription.given_up_in_row = 0
                return
            wait = retry_wait(self._settings.outbox_retry_seconds, attempt)
            if wait is None:
                delivery.status = "failed"
                delivery.finished_at = now
                subscription.given_up_in_row += 1
            else:
                delivery.next_attempt_at = now + wait
                await queries.hold_followers(
                    session, subscription.id, delivery.run_id, delivery.seq, now + wait
                )
            subscription.failed_attempts += 1
            subscription.failing_since = subscription.failing_since or started
            reason = disable_reason(subscription, now, self._settings)
            if reason is not None and subscription.enabled:
                await _disable(session, subscription, reason, now)


async def _first_bytes(response: aiohttp.ClientResponse) -> bytes:
    """The start of the answer: a receiver's error text, never a whole large body."""
    kept = bytearray()
    async for chunk in response.content.iter_any():
        kept += chunk
        if len(kept) >= ANSWER_BYTES:
            break
    return bytes(kept[:ANSWER_BYTES])


async def _disable(
    session: AsyncSession, subscription: WebhookSubscription, reason: str, now: datetime
) -> None:
    subscription.enabled = False
    subscription.disabled_reason = reason
    subscription.disabled_at = now
    await park_deliveries(session, subscription.id)
    log.warning("webhook subscription %s disabled: %s", subscription.id, reason)
    # The dispatcher acts for the workspace; the audit log names it as the actor.
    system = Principal("system:outbox", subscription.workspace_id, "admin", kind="system")
    before = {"enabled": True}
    after = {"enabled": False, "disabled_reason": reason}
    change = Change("subscription.disable", "subscription", subscription.id, before, after)
    await record(session, system, change)


@asynccontextmanager
async def outbox_running(
    db: Database,
    bus: EventBus,
    settings: OutboxSettings,
    steps: StepSettings,
    keys: SecretKeys,
    *,
    enabled: bool = True,
) -> AsyncIterator[Outbox | None]:
    """The dispatcher of a process that runs a worker (`enabled`), woken by the events
    the process commits; the egress guard is the steps' own, with their allowed hosts;
    `keys` decrypt the signing secrets."""
    if not enabled:
        yield None
        return
    # Connections of its own, as the engine has: its polls and sends neither wait for a
    # request's connection nor appear among them.
    own = db.alike()
    try:
        async with step_session(egress_policy(steps)) as http:
            outbox = Outbox(own, http, settings, keys)
            stop_listening = bus.listen(outbox.on_event)
            task = asyncio.create_task(outbox.run())
            try:
                yield outbox
            finally:
                stop_listening()
                outbox.stop()
                await task
                await outbox.release()
    finally:
        await own.dispose()
