"""Webhook triggers of the caller's workspace, and starting a run from a webhook body."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response

from towpath.api.deps import DB, Editor, Idempotency, Keys, Operator, Rules, RuntimeDep, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.routes.runs import STARTED
from towpath.api.routes.webhook_bodies import ANY_BODY, incoming
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.links import created_or_replayed, links
from towpath.api.schemas.runs import RunResponse, run_response
from towpath.api.schemas.webhooks import (
    RotateSecretInput,
    WebhookDeliveryResponse,
    WebhookTriggerCreate,
    WebhookTriggerCreated,
    WebhookTriggerResponse,
    created_response,
    trigger_response,
)
from towpath.storage.pagination import PageRequest
from towpath.storage.webhooks import DELIVERIES_SORTABLE, SORTABLE
from towpath.triggers import deliveries
from towpath.triggers import webhooks as service
from towpath.triggers.webhooks import TriggerSpec

router = APIRouter(prefix="/triggers", tags=["triggers"])
TriggerPages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]
DeliveryPages = Annotated[PageRequest, paging(DELIVERIES_SORTABLE, "-created_at")]
TRIGGER_LINKS = links(
    "trigger_id",
    "get_webhook_trigger",
    "delete_webhook_trigger",
    "rotate_webhook_secret",
    "list_webhook_deliveries",
)
MADE: Responses = {
    **created_or_replayed(
        "The trigger, with its secret",
        "The trigger an earlier request with this idempotency key made, with its secret",
        WebhookTriggerCreated,
        TRIGGER_LINKS,
    ),
    **errors(409),
}


@router.get("/webhooks", responses=LISTED)
async def list_webhook_triggers(
    db: DB, caller: Viewer, page: TriggerPages, response: Response
) -> list[WebhookTriggerResponse]:
    found = await service.list_triggers(db, caller, page)
    set_total(response, found)
    return [trigger_response(trigger) for trigger in found.items]


@router.post("/webhooks", status_code=201, responses={**MADE, **WITH_BODY, **errors(404)})
async def create_webhook_trigger(
    body: WebhookTriggerCreate,
    db: DB,
    keys: Keys,
    caller: Editor,
    rules: Rules,
    key: Idempotency,
    response: Response,
) -> WebhookTriggerCreated:
    """A trigger that starts runs of the workflow; deliver to its `path`."""
    options = body.hmac.model_dump(mode="json") if body.hmac else {}
    spec = TriggerSpec(
        body.name, body.workflow_id, body.scheme, options, body.transform, body.pinned
    )
    made = await service.create(db, keys, caller, spec, key, rules.idempotency)
    mark_created(response, made.replayed)
    return created_response(made.trigger, made.secret)


@router.get("/webhooks/{trigger_id}", responses=errors(404))
async def get_webhook_trigger(trigger_id: str, db: DB, caller: Viewer) -> WebhookTriggerResponse:
    return trigger_response(await service.get(db, caller, trigger_id))


@router.delete("/webhooks/{trigger_id}", status_code=204, responses=errors(404))
async def delete_webhook_trigger(trigger_id: str, db: DB, caller: Editor) -> Response:
    """Delete the trigger and its delivery log; its runs stay."""
    await service.delete(db, caller, trigger_id)
    return Response(status_code=204)


@router.post("/webhooks/{trigger_id}/rotate-secret", responses={**errors(404), **WITH_BODY})
async def rotate_webhook_secret(
    trigger_id: str,
    db: DB,
    keys: Keys,
    caller: Editor,
    body: RotateSecretInput | None = None,
) -> WebhookTriggerCreated:
    """A new secret, shown this once; the old one still verifies for `overlap_seconds`."""
    overlap = timedelta(seconds=(body or RotateSecretInput()).overlap_seconds)
    rotated = await service.rotate_secret(db, keys, caller, trigger_id, overlap)
    return created_response(rotated.trigger, rotated.secret)


@router.get("/webhooks/{trigger_id}/deliveries", responses={**LISTED, **errors(404)})
async def list_webhook_deliveries(
    trigger_id: str, db: DB, caller: Viewer, page: DeliveryPages, response: Response
) -> list[WebhookDeliveryResponse]:
    found = await service.deliveries(db, caller, trigger_id, page)
    set_total(response, found)
    return [WebhookDeliveryResponse.model_validate(item) for item in found.items]


@router.post(
    "/webhook/{workflow_id}",
    status_code=201,
    responses={**STARTED, **WITH_BODY, **errors(404, 409)},
    openapi_extra=ANY_BODY,
)
async def start_run_from_webhook(
    workflow_id: str,
    request: Request,
    runtime: RuntimeDep,
    caller: Operator,
    rules: Rules,
    key: Idempotency,
    response: Response,
) -> RunResponse:
    """Start a run whose input is the body: a JSON object or form as it is, any other
    body as `{"body": …}`."""
    started = await deliveries.start_from_request(
        runtime, caller, workflow_id, await incoming(request), key, rules.idempotency
    )
    mark_created(response, started.replayed)
    return run_response(started.run, started.context)
