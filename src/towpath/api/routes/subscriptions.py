"""Outgoing webhook subscriptions of the caller's workspace and their deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from towpath.api.deps import DB, Editor, Idempotency, Keys, Rules, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.links import created_or_replayed, links
from towpath.api.schemas.subscriptions import (
    DeliveryResponse,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionResponse,
    SubscriptionUpdate,
    created_response,
    delivery_response,
    subscription_response,
)
from towpath.api.schemas.webhooks import RotateSecretInput
from towpath.storage.pagination import PageRequest
from towpath.storage.subscriptions import DELIVERIES_SORTABLE, SORTABLE
from towpath.triggers import subscriptions as service
from towpath.triggers.subscriptions import SubscriptionChanges, SubscriptionSpec

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])
SubscriptionPages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]
DeliveryPages = Annotated[PageRequest, paging(DELIVERIES_SORTABLE, "-created_at")]
DeliveryStatus = Literal["pending", "delivered", "failed"]
SUBSCRIPTION_LINKS = links(
    "subscription_id",
    "get_subscription",
    "update_subscription",
    "delete_subscription",
    "rotate_subscription_secret",
    "list_subscription_deliveries",
)
MADE: Responses = {
    **created_or_replayed(
        "The subscription, with its signing secret",
        "The subscription an earlier request with this idempotency key made, with its secret",
        SubscriptionCreated,
        SUBSCRIPTION_LINKS,
    ),
    **errors(409),
}


@router.get("", responses=LISTED)
async def list_subscriptions(
    db: DB, caller: Viewer, page: SubscriptionPages, response: Response
) -> list[SubscriptionResponse]:
    found = await service.list_subscriptions(db, caller, page)
    set_total(response, found)
    return [subscription_response(s) for s in found.items]


@router.post("", status_code=201, responses={**MADE, **WITH_BODY, **errors(404)})
async def create_subscription(
    body: SubscriptionCreate,
    db: DB,
    keys: Keys,
    caller: Editor,
    rules: Rules,
    key: Idempotency,
    response: Response,
) -> SubscriptionCreated:
    """Deliver the workspace's run events of these types to the URL, signed with the
    returned `whsec_…` secret (Standard Webhooks)."""
    spec = SubscriptionSpec(body.url, list(body.event_types), body.workflow_id, body.description)
    made = await service.create(db, keys, caller, spec, key, rules.idempotency)
    mark_created(response, made.replayed)
    return created_response(made.subscription, made.secret)


@router.get("/{subscription_id}", responses=errors(404))
async def get_subscription(subscription_id: str, db: DB, caller: Viewer) -> SubscriptionResponse:
    return subscription_response(await service.get(db, caller, subscription_id))


@router.patch("/{subscription_id}", responses={**WITH_BODY, **errors(404)})
async def update_subscription(
    subscription_id: str, db: DB, caller: Editor, body: SubscriptionUpdate | None = None
) -> SubscriptionResponse:
    """Change the URL, event types, workflow or description; enable or disable it."""
    changes = SubscriptionChanges(body.changes() if body is not None else {})
    return subscription_response(await service.update(db, caller, subscription_id, changes))


@router.delete("/{subscription_id}", status_code=204, responses=errors(404))
async def delete_subscription(subscription_id: str, db: DB, caller: Editor) -> Response:
    """Delete the subscription, its pending deliveries and their log."""
    await service.delete(db, caller, subscription_id)
    return Response(status_code=204)


@router.post("/{subscription_id}/rotate-secret", responses={**errors(404), **WITH_BODY})
async def rotate_subscription_secret(
    subscription_id: str,
    db: DB,
    keys: Keys,
    caller: Editor,
    body: RotateSecretInput | None = None,
) -> SubscriptionCreated:
    """A new secret, shown this once; deliveries are signed by the old one too for
    `overlap_seconds`, so a receiver can switch without refusing any."""
    overlap = timedelta(seconds=(body or RotateSecretInput()).overlap_seconds)
    rotated = await service.rotate_secret(db, keys, caller, subscription_id, overlap)
    return created_response(rotated.subscription, rotated.secret)


@router.get("/{subscription_id}/deliveries", responses={**LISTED, **errors(404)})
async def list_subscription_deliveries(
    subscription_id: str,
    db: DB,
    caller: Viewer,
    page: DeliveryPages,
    response: Response,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> list[DeliveryResponse]:
    """Each event sent or to send, newest first, with every attempt made."""
    found = await service.deliveries(db, caller, subscription_id, page, status)
    set_total(response, found)
    return [delivery_response(item.delivery, item.attempts) for item in found.items]
