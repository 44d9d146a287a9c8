"""Events posted from outside, answering the steps that wait for them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from towpath.api.deps import Operator, RuntimeDep
from towpath.services import runs as service

router = APIRouter(tags=["runs"])


class EventInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    key: str | None = Field(default=None, max_length=500)
    data: dict[str, Any] = Field(default_factory=dict)


class EventDelivery(BaseModel):
    # The runs whose waiting step this event answered.
    run_ids: list[str]


@router.post("/events")
async def post_event(body: EventInput, runtime: RuntimeDep, caller: Operator) -> EventDelivery:
    run_ids = await service.post_event(runtime, caller, body.name, body.key, body.data)
    return EventDelivery(run_ids=run_ids)
