"""Runs, step runs and events as plain rows: the one Python type of each, what the
engine loads, changes and writes back and what reads answer with."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime  # noqa: TC003 - dataclass field types
from typing import Any


@dataclass
class RunRow:
    id: str
    workspace_id: str
    workflow_id: str
    status: str
    trigger_type: str
    input: Any
    context: Any
    error: str | None
    idempotency_key: str | None
    parent_run_id: str | None
    parent_step_id: str | None
    last_seq: int
    deadline_at: datetime | None
    created_by: str | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    root_run_id: str | None
    depth: int
    # The trigger that started the run (a webhook trigger's id), if one did.
    trigger_id: str | None = None
    # The tick a schedule started the run for.
    scheduled_at: datetime | None = None
    # The workflow's lineage (every version of it shares it): lists and statistics by it.
    lineage_id: str | None = None
    # Flow control (`engine.admission`): see the columns of `storage.models.Run`.
    priority: int = 0
    concurrency_key: str | None = None
    queued_for: str | None = None
    # The project the run was started for, if its starter named one: lists filter by it.
    project_id: str | None = None


@dataclass
class StepRow:
    id: str
    workspace_id: str
    run_id: str
    step_id: str
    item_index: int
    step_type: str
    status: str
    attempt: int
    input: Any
    output: Any
    error: str | None
    attempts: Any
    handle: str | None
    state: Any
    available_at: datetime | None
    lease_owner: str | None
    lease_token: str | None
    lease_expires_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    # Its run's priority: the claim takes higher ones first.
    priority: int = 0
    # The columns changed since the row was loaded or written: only those are written
    # back, so a document nobody touched is not encoded again.
    changed: set[str] = field(default_factory=set, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        state = self.__dict__
        state[name] = value
        changed = state.get("changed")
        if changed is not None:
            changed.add(name)

    @property
    def dirty(self) -> bool:
        return bool(self.__dict__["changed"])


@dataclass(slots=True)
class EventRow:
    # Not frozen: a frozen dataclass pays a setattr call per field, and a step writes
    # three of these. Nothing changes an event after it is made.
    workspace_id: str
    run_id: str
    seq: int
    event_type: str
    step_id: str | None
    data: dict[str, Any]
    created_at: datetime


RUN_COLUMNS = [f.name for f in fields(RunRow)]
STEP_COLUMNS = [f.name for f in fields(StepRow) if f.name != "changed"]
EVENT_COLUMNS = [f.name for f in fields(EventRow)]
