"""Deliveries to webhook triggers. No API key: the signature is the authentication."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from towpath.api.body_limit import BodyTooLarge
from towpath.api.deps import Keys, Rules, RuntimeDep
from towpath.api.rate_limit import mark_authenticated
from towpath.api.responses import mark_created
from towpath.api.routes.runs import STARTED
from towpath.api.routes.webhook_bodies import ANY_BODY, incoming
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.api.schemas.runs import RunResponse, run_response
from towpath.triggers import deliveries

router = APIRouter(tags=["triggers"])
# What any operation under /api/v1 documents; 403 is never answered here.
REFUSED = errors(401, 403, 404, 409, 422, 429, 500)


@router.post(
    "/hooks/{hook_id}",
    status_code=201,
    responses={**STARTED, **WITH_BODY, **REFUSED},
    openapi_extra=ANY_BODY,
)
async def deliver_webhook(
    hook_id: str,
    request: Request,
    runtime: RuntimeDep,
    keys: Keys,
    rules: Rules,
    response: Response,
) -> RunResponse:
    """Start the trigger's run. A bad or missing signature, a timestamp more than five
    minutes off, or an unknown trigger id is 401 and starts nothing; a delivery id seen
    before (`webhook-id`, `X-GitHub-Delivery`, `X-Idempotency-Key`) returns its run."""
    try:
        delivered = await incoming(request)
    except BodyTooLarge as exc:
        await deliveries.refuse_unread(
            runtime, hook_id, request.headers, "body_too_large", str(exc.detail)
        )
        raise
    started = await deliveries.deliver(
        runtime,
        keys,
        rules.idempotency,
        hook_id,
        delivered,
        on_verified=lambda: mark_authenticated(request.scope),
    )
    mark_created(response, started.replayed)
    return run_response(started.run, started.context)
