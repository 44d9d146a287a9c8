"""Outgoing webhook subscription requests and responses; a secret appears only where it
is made."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, Strict

from towpath.api.schemas.strict import RequestModel
from towpath.domain.states import EventType
from towpath.storage.subscriptions import PARKED
from towpath.triggers.outbox import message_id

MAX_URL_CHARS = 2048


# http(s), a host name or IPv4 address, an optional port up to 65535, then visible ASCII:
# the OpenAPI document says exactly what is accepted (an IPv6 literal is not; name it).
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
URL_PATTERN = rf"^https?://[A-Za-z0-9._~-]+(:{_PORT})?([/?#][!-~]*)?$"


def _distinct(values: list[EventType]) -> list[EventType]:
    return list(dict.fromkeys(values))


WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URL_CHARS,
        pattern=URL_PATTERN,
        description="Where deliveries are POSTed: `http://` or `https://`, a host, a port",
    ),
]
# Not strict: an enum's JSON value is its text.
EventTypes = Annotated[
    list[Annotated[EventType, Strict(False)]],
    Field(min_length=1, max_length=len(EventType), description="The event types delivered"),
    AfterValidator(_distinct),
]


class SubscriptionCreate(RequestModel):
    url: WebhookUrl
    event_types: EventTypes
    workflow_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=36,
        description="Only runs of this workflow, any version of it; every workflow when left out",
    )
    description: str = Field(default="", max_length=1000)


class SubscriptionUpdate(RequestModel):
    """Only the fields given change; `workflow_id: null` widens it to every workflow."""

    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    workflow_id: str | None = Field(default=None, min_length=1, max_length=36)
    description: str | None = Field(default=None, max_length=1000)
    enabled: bool | None = Field(
        default=None,
        description="false pauses deliveries; true resumes them, pending ones at once",
    )

    def changes(self) -> dict[str, Any]:
        given = {name: getattr(self, name) for name in self.model_fields_set}
        # Only `workflow_id` means something as null; the others are left as they are.
        return {k: v for k, v in given.items() if v is not None or k == "workflow_id"}


class SubscriptionResponse(BaseModel):
    id: str
    url: str
    event_types: list[str]
    # The workflow's lineage (its first version's id): every version's runs are delivered.
    workflow_id: str | None
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    # Since when every attempt has failed, and how many attempts that is.
    failing_since: datetime | None
    failed_attempts: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    rotated_at: datetime | None
    # Until when deliveries also carry a signature by the secret before the last rotation.
    previous_expires_at: datetime | None


class SubscriptionCreated(SubscriptionResponse):
    # `whsec_…`, shown this once, on creation or rotation.
    secret: str


class AttemptResponse(BaseModel):
    attempt: int
    outcome: str = Field(
        description="`delivered`, `failed`, or `refused` (the egress guard kept it from"
        " the address: nothing was sent)"
    )
    status_code: int | None
    latency_ms: int | None
    error: str | None
    started_at: datetime


class DeliveryResponse(BaseModel):
    id: int
    # The `webhook-id` header it is sent with, the same at every attempt.
    message_id: str
    event_type: str
    run_id: str
    seq: int
    status: str = Field(description="`pending`, `delivered`, or `failed` (given up)")
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptResponse]


def subscription_response(subscription: Any) -> SubscriptionResponse:
    return SubscriptionResponse(
        id=subscription.id,
        url=subscription.url,
        event_types=list(subscription.event_types),
        workflow_id=subscription.workflow_lineage_id,
        description=subscription.description,
        enabled=subscription.enabled,
        disabled_reason=subscription.disabled_reason,
        disabled_at=subscription.disabled_at,
        failing_since=subscription.failing_since,
        failed_attempts=subscription.failed_attempts,
        created_by=subscription.created_by,
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
        rotated_at=subscription.rotated_at,
        previous_expires_at=subscription.previous_expires_at,
    )


def created_response(subscription: Any, secret: str) -> SubscriptionCreated:
    return SubscriptionCreated(**subscription_response(subscription).model_dump(), secret=secret)


def delivery_response(delivery: Any, attempts: list[Any]) -> DeliveryResponse:
    # Pending but parked: its subscription is disabled, and nothing is due.
    pending = delivery.status == "pending" and delivery.next_attempt_at < PARKED
    return DeliveryResponse(
        id=delivery.id,
        message_id=message_id(delivery.run_id, delivery.seq),
        event_type=delivery.event_type,
        run_id=delivery.run_id,
        seq=delivery.seq,
        status=delivery.status,
        attempt_count=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if pending else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
        attempts=[
            AttemptResponse(
                attempt=a.attempt,
                outcome=a.outcome,
                status_code=a.status_code,
                latency_ms=a.latency_ms,
                error=a.error,
                started_at=a.started_at,
            )
            for a in attempts
        ],
    )
