"""Webhook trigger requests and responses; a secret appears only where it is made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from towpath.api.schemas.strict import RequestModel, Whole
from towpath.triggers.signatures import Encoding, Scheme

HOOKS_PATH = "/api/v1/hooks"
# How long a rotated secret still verifies by default, and at most.
DEFAULT_OVERLAP_SECONDS = 24 * 3600
MAX_OVERLAP_SECONDS = 30 * 24 * 3600


class HmacOptions(RequestModel):
    header: str = Field(
        default="X-Signature", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$"
    )
    # Not strict: an enum's JSON value is its text.
    encoding: Encoding = Field(default=Encoding.HEX, strict=False)
    prefix: str = Field(
        default="", max_length=40, description="Text before the digest, e.g. `sha256=`"
    )


class WebhookTriggerCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    workflow_id: str = Field(
        min_length=1,
        max_length=36,
        description="Any version of the workflow: a delivery runs its lineage's newest"
        " published version at that moment, unless `pinned`",
    )
    pinned: bool = Field(default=False, description="Run exactly the version `workflow_id` names")
    scheme: Scheme = Field(
        default=Scheme.STANDARD,
        strict=False,
        description="How a delivery proves its sender: Standard Webhooks, GitHub's"
        " X-Hub-Signature-256, Stripe-Signature, an HMAC header, or a bearer token",
    )
    hmac: HmacOptions | None = Field(
        default=None, description="For the `hmac` scheme: the header and how it is written"
    )
    transform: dict[str, Any] | None = Field(
        default=None,
        description="A JSON object of templates naming `body` and `headers`; what it"
        " renders is the run input. Without one, a JSON object or form body is the input"
        ' as it is, and any other body is `{"body": …}`.',
    )

    @field_validator("hmac")
    @classmethod
    def _hmac_only_for_its_scheme(
        cls, value: HmacOptions | None, info: ValidationInfo
    ) -> HmacOptions | None:
        # Options no check would read must not look as if they were kept.
        if value is not None and info.data.get("scheme", Scheme.STANDARD) != Scheme.HMAC:
            raise ValueError("hmac options apply to the `hmac` scheme only")
        return value


class RotateSecretInput(RequestModel):
    overlap_seconds: Whole = Field(
        default=DEFAULT_OVERLAP_SECONDS,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description="How long the old secret still verifies",
    )


class WebhookTriggerResponse(BaseModel):
    id: str
    name: str
    workflow_id: str
    # True: deliveries run exactly `workflow_id`; False: its lineage's newest published version.
    pinned: bool = False
    scheme: Scheme
    scheme_options: dict[str, Any]
    transform: dict[str, Any] | None
    # Where senders deliver: the id is the only part that names the trigger.
    path: str
    created_by: str | None
    created_at: datetime
    rotated_at: datetime | None
    # Until when the secret before the last rotation still verifies.
    previous_expires_at: datetime | None


class WebhookTriggerCreated(WebhookTriggerResponse):
    # Shown this once, on creation or rotation.
    secret: str


class WebhookDeliveryResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    delivery_id: str | None
    outcome: str = Field(description="`accepted`, `replayed` (a repeated delivery id) or `refused`")
    reason: str | None = Field(description="Why it was refused")
    detail: str | None
    run_id: str | None
    created_at: datetime


def trigger_response(trigger: Any) -> WebhookTriggerResponse:
    return WebhookTriggerResponse(
        id=trigger.id,
        name=trigger.name,
        workflow_id=trigger.workflow_id,
        pinned=trigger.pinned,
        scheme=trigger.scheme,
        scheme_options=trigger.scheme_options,
        transform=trigger.transform,
        path=f"{HOOKS_PATH}/{trigger.id}",
        created_by=trigger.created_by,
        created_at=trigger.created_at,
        rotated_at=trigger.rotated_at,
        previous_expires_at=trigger.previous_expires_at,
    )


def created_response(trigger: Any, secret: str) -> WebhookTriggerCreated:
    return WebhookTriggerCreated(**trigger_response(trigger).model_dump(), secret=secret)
