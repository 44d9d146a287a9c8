"""Events posted from outside: they answer the steps waiting for them and start the
workflows subscribed to them, in one transaction."""

from __future__ import annotations

from fastapi import APIRouter

from towpath.api.deps import Idempotency, Operator, RuntimeDep
from towpath.api.routes import event_triggers
from towpath.api.schemas.errors import WITH_BODY
from towpath.api.schemas.events import EventDelivery, EventInput, event_delivery
from towpath.services.idempotency import one_key
from towpath.triggers.event_posts import PostedEvent, post

router = APIRouter(tags=["runs"])
router.include_router(event_triggers.router)


@router.post("/events", responses=WITH_BODY)
async def post_event(
    body: EventInput, runtime: RuntimeDep, caller: Operator, key: Idempotency
) -> EventDelivery:
    """Answer the `wait_for_event` steps waiting for this name and key, and start a run
    of each event trigger subscribed to the name. With an `id` (or X-Idempotency-Key),
    the same id posted again answers the first post's answer and starts nothing."""
    given = one_key(key, body.id, "POST /api/v1/events")
    event = PostedEvent(body.name, body.key, body.data, given.key if given else None)
    return event_delivery(await post(runtime, caller, event))
