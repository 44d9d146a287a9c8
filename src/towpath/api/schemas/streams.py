"""The messages of the live streams, as JSON. Events are serialized by the hub
(`towpath.events.messages`) in exactly the `EventMessage` shape."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from towpath.api.schemas.runs import RunResponse, run_view_response
from towpath.services.run_views import view_of

if TYPE_CHECKING:
    from towpath.storage.streams import RunSnapshot


class SnapshotMessage(BaseModel):
    type: Literal["snapshot"] = "snapshot"
    run_id: str
    workflow_id: str
    # The run as GET /api/v1/runs/{id} returns it.
    run: RunResponse
    # Each step's status under its node id; steps not reached yet are absent.
    step_statuses: dict[str, str]
    # What each waiting step waits for, as GET /runs/{id}/steps shows it under `request`:
    # an approval's message, rules and votes so far; a clarification's questions.
    waiting: dict[str, Any]
    # The seq of the run's last event when the snapshot was read; events follow from seq + 1.
    seq: int


class EventMessage(BaseModel):
    type: Literal["event"] = "event"
    run_id: str
    workflow_id: str
    seq: int
    event_type: str
    step_id: str | None
    timestamp: datetime
    data: dict[str, Any]


def snapshot_text(snapshot: RunSnapshot) -> str:
    run = snapshot.run
    return SnapshotMessage(
        run_id=run.id,
        workflow_id=run.workflow_id,
        run=run_view_response(view_of(run, snapshot.steps, snapshot.nodes)),
        step_statuses=snapshot.step_statuses,
        waiting=snapshot.waiting,
        seq=snapshot.seq,
    ).model_dump_json()
