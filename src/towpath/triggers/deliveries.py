"""A webhook delivery starts a run: verified, read as input, started once per delivery id,
and logged whatever the outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from towpath.auth.principal import Principal
from towpath.domain.clock import utcnow
from towpath.domain.errors import TowpathError, Unauthenticated
from towpath.services import runs
from towpath.services.idempotency import IdempotencyRequest, checked_key
from towpath.storage import webhooks as queries
from towpath.storage.models import WebhookDelivery
from towpath.storage.secret_keys import SecretUnreadable
from towpath.triggers import bodies
from towpath.triggers.signatures import (
    Encoding,
    HmacHeader,
    Scheme,
    WebhookRefused,
    delivery_id,
    delivery_id_header,
    verify,
)
from towpath.triggers.webhooks import accepted_secrets

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from towpath.engine.runtime import Runtime
    from towpath.services.idempotency import IdempotencyPolicy
    from towpath.storage.models import Run, WebhookTrigger
    from towpath.storage.rows import RunRow
    from towpath.storage.secret_keys import SecretKeys

TRIGGER_TYPE = "webhook"


class UnknownWebhook(Unauthenticated):
    code = "WEBHOOK_REFUSED"

    def __init__(self) -> None:
        # The same answer as a bad signature: a caller learns nothing about which ids exist.
        super().__init__(
            "the delivery's signature does not match", details={"reason": "bad_signature"}
        )


@dataclass(frozen=True)
class IncomingRequest:
    # Names in lowercase.
    headers: dict[str, str]
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Started:
    run: Run | RunRow
    context: dict[str, Any]
    replayed: bool


def hmac_rule(options: dict[str, Any]) -> HmacHeader:
    return HmacHeader(
        header=str(options.get("header", "x-signature")).lower(),
        encoding=Encoding(options.get("encoding", Encoding.HEX)),
        prefix=str(options.get("prefix", "")),
    )


def as_input(request: IncomingRequest, transform: Any) -> dict[str, Any]:
    parsed = bodies.parsed_body(request.body, request.content_type)
    if transform is None:
        return bodies.run_input(parsed)
    return bodies.transformed(transform, parsed, request.headers)


async def start_from_request(
    runtime: Runtime,
    caller: Principal,
    workflow_id: str,
    request: IncomingRequest,
    key: IdempotencyRequest | None,
    policy: IdempotencyPolicy,
) -> Started:
    """A run of the workflow with the request's body as its input."""
    run_input = as_input(request, None)
    run, context, replayed = await runs.start(
        runtime,
        caller,
        workflow_id,
        run_input,
        key,
        policy,
        trigger_type=TRIGGER_TYPE,
    )
    return Started(run, context, replayed)


def _secrets(trigger: WebhookTrigger, now: datetime, keys: SecretKeys) -> list[str]:
    try:
        return accepted_secrets(trigger, now, keys)
    except SecretUnreadable as exc:
        # Its key was removed from the settings: nothing can verify, so nothing starts.
        raise WebhookRefused(
            "secret_unreadable", "the trigger's secret cannot be read with the server's keys"
        ) from exc


async def deliver(
    runtime: Runtime,
    keys: SecretKeys,
    policy: IdempotencyPolicy,
    trigger_id: str,
    request: IncomingRequest,
    on_verified: Callable[[], None],
) -> Started:
    """Start the trigger's run for a delivery that proves its sender; a delivery id seen
    before returns that delivery's run. Every delivery to a trigger that exists is logged."""
    now = utcnow()
    async with runtime.db.read() as session:
        trigger = await queries.find_trigger(session, trigger_id)
    if trigger is None:
        raise UnknownWebhook
    scheme = Scheme(trigger.scheme)
    sent_id = delivery_id(scheme, request.headers)
    try:
        verify(
            scheme,
            _secrets(trigger, now, keys),
            request.headers,
            request.body,
            int(now.timestamp()),
            hmac_rule(trigger.scheme_options),
        )
        on_verified()
        bodies.check_storable(request.body, request.content_type)
        started = await _start(runtime, policy, trigger, request, sent_id)
    except TowpathError as exc:
        if isinstance(exc, WebhookRefused | bodies.WebhookBodyUnstorable):
            reason = exc.reason
        else:
            reason = exc.code
        await _log(runtime, trigger, sent_id, "refused", reason=reason, detail=exc.message)
        raise
    outcome = "replayed" if started.replayed else "accepted"
    await _log(runtime, trigger, sent_id, outcome, run_id=started.run.id)
    return started


async def refuse_unread(
    runtime: Runtime, trigger_id: str, headers: Mapping[str, str], reason: str, detail: str
) -> None:
    """Log a delivery refused before its body could be read (too large to read): to a
    trigger that exists, as every delivery is."""
    async with runtime.db.read() as session:
        trigger = await queries.find_trigger(session, trigger_id)
    if trigger is not None:
        sent_id = delivery_id(Scheme(trigger.scheme), headers)
        await _log(runtime, trigger, sent_id, "refused", reason=reason, detail=detail)


async def _start(
    runtime: Runtime,
    policy: IdempotencyPolicy,
    trigger: WebhookTrigger,
    request: IncomingRequest,
    sent_id: str | None,
) -> Started:
    key = None
    if sent_id is not None:
        operation = f"POST /api/v1/hooks/{trigger.id}"
        header = delivery_id_header(Scheme(trigger.scheme), request.headers) or "X-Idempotency-Key"
        key = IdempotencyRequest(checked_key(sent_id, "header", header), operation)
    # The trigger acts for its workspace with the role that starts runs.
    caller = Principal(
        subject=f"webhook:{trigger.id}",
        workspace_id=trigger.workspace_id,
        role="operator",
        kind="webhook",
    )
    run_input = as_input(request, trigger.transform)
    run, context, replayed = await runs.start(
        runtime,
        caller,
        trigger.workflow_id,
        run_input,
        key,
        policy,
        trigger_type=TRIGGER_TYPE,
        trigger_id=trigger.id,
        latest=not trigger.pinned,
    )
    return Started(run, context, replayed)


async def _log(
    runtime: Runtime,
    trigger: WebhookTrigger,
    sent_id: str | None,
    outcome: str,
    *,
    reason: str | None = None,
    detail: str | None = None,
    run_id: str | None = None,
) -> None:
    async with runtime.db.transaction() as session:
        await queries.add_delivery(
            session,
            WebhookDelivery(
                workspace_id=trigger.workspace_id,
                trigger_id=trigger.id,
                delivery_id=sent_id[:255] if sent_id else None,
                outcome=outcome,
                reason=reason,
                detail=detail,
                run_id=run_id,
            ),
        )
