"""Events posted from outside, answering the steps that wait for them."""

from __future__ import annotations

from fastapi import APIRouter

from towpath.api.deps import Operator, RuntimeDep
from towpath.api.schemas.errors import WITH_BODY
from towpath.api.schemas.events import EventDelivery, EventInput
from towpath.services import runs as service

router = APIRouter(tags=["runs"])


@router.post("/events", responses=WITH_BODY)
async def post_event(body: EventInput, runtime: RuntimeDep, caller: Operator) -> EventDelivery:
    run_ids = await service.post_event(runtime, caller, body.name, body.key, body.data)
    return EventDelivery(run_ids=run_ids)
