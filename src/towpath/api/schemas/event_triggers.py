"""Event trigger requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from towpath.api.schemas.strict import RequestModel


class EventTriggerCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    event_name: str = Field(
        min_length=1, max_length=200, description="The events it starts a run for"
    )
    workflow_id: str = Field(
        min_length=1,
        max_length=36,
        description="Any version of the workflow: the run is of its lineage's newest"
        " published version when the event arrives, unless `pinned`",
    )
    pinned: bool = Field(default=False, description="Run exactly the version `workflow_id` names")
    filter: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="A sandboxed expression naming `name`, `key` and `data` (the event's);"
        " an event it finds false starts nothing, e.g. `data.amount > 100`",
    )
    input_template: dict[str, Any] | None = Field(
        default=None,
        description="A JSON object of templates naming `name`, `key` and `data`; what it"
        " renders is the run input. Without one, the event's data is the input.",
    )


class EventTriggerResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    event_name: str
    workflow_id: str
    pinned: bool
    filter: str | None
    input_template: dict[str, Any] | None
    created_by: str | None
    created_at: datetime
