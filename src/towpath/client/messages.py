"""The messages of the live streams (docs/events.md), which the OpenAPI document does not
describe: a run's snapshot and events, and the inbox's snapshot and changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from towpath.client.models import InboxItemResponse, RunResponse


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")


class Snapshot(Message):
    """A run as it stands; the events that follow start at `seq + 1`."""

    type: Literal["snapshot"]
    run_id: str
    workflow_id: str
    run: RunResponse
    step_statuses: dict[str, str]
    waiting: dict[str, Any] = {}
    seq: int


class Event(Message):
    """One committed event of a run."""

    type: Literal["event"]
    run_id: str
    workflow_id: str
    seq: int
    event_type: str
    step_id: str | None = None
    timestamp: datetime
    data: dict[str, Any] = {}


class Resync(Message):
    """The client fell behind: a fresh snapshot follows."""

    type: Literal["resync"]


RunMessage = Snapshot | Event | Resync
FINAL_EVENTS = frozenset({"run.completed", "run.failed", "run.cancelled"})


class InboxSnapshot(Message):
    type: Literal["snapshot"]
    count: int
    items: list[InboxItemResponse]


class InboxChange(Message):
    """An item `added` or `changed` (votes came in); `count` is the inbox's size after it."""

    type: Literal["added", "changed"]
    count: int
    item: InboxItemResponse


class InboxRemoval(Message):
    type: Literal["removed"]
    count: int
    run_id: str
    step_id: str


InboxMessage = InboxSnapshot | InboxChange | InboxRemoval
run_message: TypeAdapter[RunMessage] = TypeAdapter(RunMessage)
inbox_message: TypeAdapter[InboxMessage] = TypeAdapter(InboxMessage)
