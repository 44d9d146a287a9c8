"""Events posted from outside, and what they did: runs resumed, runs started."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from towpath.api.schemas.strict import RequestModel

if TYPE_CHECKING:
    from towpath.triggers.event_posts import EventAnswer
from towpath.api.schemas.runs import IdempotencyKey


class EventInput(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    key: str | None = Field(default=None, max_length=500)
    data: dict[str, Any] = Field(default_factory=dict)
    id: IdempotencyKey | None = Field(
        default=None,
        description="The event's id, as X-Idempotency-Key may give it instead: posted again,"
        " the event answers what its first post did and changes nothing",
    )


class StartedRun(BaseModel):
    trigger_id: str
    run_id: str
    workflow_id: str


class RefusedStart(BaseModel):
    trigger_id: str
    error_code: str
    message: str


class EventDelivery(BaseModel):
    id: str | None = Field(default=None, description="The event's id, if it was given one")
    # The runs whose waiting step this event answered.
    run_ids: list[str]
    # A run of each subscribed workflow whose filter let the event through.
    started: list[StartedRun] = Field(default_factory=list)
    # Subscribers that could not start a run, and why (the others started theirs).
    refused: list[RefusedStart] = Field(default_factory=list)


def event_delivery(answer: EventAnswer) -> EventDelivery:
    return EventDelivery.model_validate(
        {"id": answer.event_id, "run_ids": answer.resumed, **answer.doc()}
    )
