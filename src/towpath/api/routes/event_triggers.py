"""Event triggers of the caller's workspace: workflows subscribed to event names."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from towpath.api.deps import DB, Editor, Idempotency, Rules, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.event_triggers import EventTriggerCreate, EventTriggerResponse
from towpath.api.schemas.links import created_or_replayed
from towpath.storage.event_triggers import SORTABLE
from towpath.storage.pagination import PageRequest
from towpath.triggers import events as service
from towpath.triggers.events import EventTriggerSpec

router = APIRouter(prefix="/triggers", tags=["triggers"])
CREATED: Responses = {
    **created_or_replayed(
        "The new trigger",
        "The trigger an earlier request with this idempotency key made",
        EventTriggerResponse,
        {},
    ),
    **errors(409),
}
TriggerPages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]
EventName = Annotated[
    str | None, Query(min_length=1, max_length=200, description="Only this event name's")
]


@router.get("/events", responses=LISTED)
async def list_event_triggers(
    db: DB, caller: Viewer, page: TriggerPages, response: Response, event_name: EventName = None
) -> list[EventTriggerResponse]:
    found = await service.list_triggers(db, caller, page, event_name)
    set_total(response, found)
    return [EventTriggerResponse.model_validate(trigger) for trigger in found.items]


@router.post("/events", status_code=201, responses={**CREATED, **WITH_BODY, **errors(404)})
async def create_event_trigger(
    body: EventTriggerCreate,
    db: DB,
    caller: Editor,
    rules: Rules,
    key: Idempotency,
    response: Response,
) -> EventTriggerResponse:
    """Subscribe a workflow to an event name: each event posted under it (that passes the
    filter) starts a run, in the post's transaction."""
    spec = EventTriggerSpec(
        body.name, body.event_name, body.workflow_id, body.pinned, body.filter, body.input_template
    )
    trigger, replayed = await service.create(db, caller, spec, key, rules.idempotency)
    mark_created(response, replayed)
    return EventTriggerResponse.model_validate(trigger)


@router.get("/events/{trigger_id}", responses=errors(404))
async def get_event_trigger(trigger_id: str, db: DB, caller: Viewer) -> EventTriggerResponse:
    return EventTriggerResponse.model_validate(await service.get(db, caller, trigger_id))


@router.delete("/events/{trigger_id}", status_code=204, responses=errors(404))
async def delete_event_trigger(trigger_id: str, db: DB, caller: Editor) -> Response:
    """Delete the subscription; the runs it started stay."""
    await service.delete(db, caller, trigger_id)
    return Response(status_code=204)
