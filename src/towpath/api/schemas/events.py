"""Events posted from outside, and the runs they answered."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from towpath.api.schemas.strict import RequestModel


class EventInput(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    key: str | None = Field(default=None, max_length=500)
    data: dict[str, Any] = Field(default_factory=dict)


class EventDelivery(BaseModel):
    # The runs whose waiting step this event answered.
    run_ids: list[str]
