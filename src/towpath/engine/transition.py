"""One run's transition: what changes of a run and its steps, and the events each change
appends, checked against the state machine. `engine.run_io` locks and loads runs into
transitions and writes them back, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from towpath.domain.ids import new_id
from towpath.domain.scheduler import Plan, RunGraph, StepState, plan
from towpath.domain.states import (
    RUN_TERMINAL,
    STEP_ACTIVE,
    STEP_TERMINAL,
    EventType,
    RunStatus,
    StepStatus,
    check_run_transition,
    check_step_transition,
)
from towpath.engine.attempts import record_attempt
from towpath.engine.rows import WHOLE_STEP, run_state
from towpath.events.bus import PublishedEvent
from towpath.storage.rows import EventRow, RunRow, StepRow

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.sql import Dialect

__all__ = ["WHOLE_STEP", "RunTransaction", "published"]


@dataclass
class RunTransaction:
    d: Dialect
    run: RunRow
    steps: dict[tuple[str, int], StepRow]
    now: datetime
    events: list[EventRow] = field(default_factory=list)
    new_steps: list[StepRow] = field(default_factory=list)
    run_is_new: bool = False
    # Step rows taken out of the run, to delete.
    removed: list[str] = field(default_factory=list)
    # How many of `events` are already written.
    _written: int = 0
    # Other runs this one's transition started or ended in the same transaction (the
    # next run of a concurrency slot it freed): their events go out with its own.
    followers: list[RunTransaction] = field(default_factory=list)
    # Metric rows the completed steps recorded (`engine.step_records`), written with the run.
    metrics: list[list[Any]] = field(default_factory=list)
    # The run's changeable columns as the database has them (`engine.rows.run_state`).
    written_run: tuple[Any, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        self.written_run = run_state(self.run)

    @classmethod
    def create(cls, d: Dialect, run: RunRow) -> RunTransaction:
        return cls(d, run, {}, run.created_at, run_is_new=True)

    # --- events ------------------------------------------------------------------------

    def emit(self, event_type: str, step_id: str | None = None, **data: Any) -> None:
        self.run.last_seq += 1
        event = EventRow(
            workspace_id=self.run.workspace_id,
            run_id=self.run.id,
            seq=self.run.last_seq,
            event_type=event_type,
            step_id=step_id,
            data=data,
            created_at=self.now,
        )
        self.events.append(event)

    # --- the run -----------------------------------------------------------------------

    def set_run_status(
        self, status: RunStatus, *, error: str | None = None, event: EventType | None = None
    ) -> None:
        check_run_transition(self.run.status, status)
        self.run.status = status
        self.run.updated_at = self.now
        if status == RunStatus.RUNNING and self.run.started_at is None:
            self.run.started_at = self.now
        if status in RUN_TERMINAL:
            self.run.completed_at = self.now
            self.run.error = error
        data: dict[str, Any] = {"status": status}
        if error is not None:
            data["error"] = error
        self.emit(event or f"run.{status}", **data)

    # --- steps -------------------------------------------------------------------------

    def step(self, step_id: str, item_index: int = WHOLE_STEP) -> StepRow | None:
        return self.steps.get((step_id, item_index))

    def add_step(
        self,
        step_id: str,
        step_type: str,
        status: StepStatus,
        *,
        item_index: int = WHOLE_STEP,
        available_at: datetime | None = None,
        input: Any = None,
    ) -> StepRow:
        row = StepRow(
            id=new_id(),
            workspace_id=self.run.workspace_id,
            run_id=self.run.id,
            step_id=step_id,
            item_index=item_index,
            step_type=step_type,
            status=status,
            attempt=0,
            input=input,
            output=None,
            error=None,
            attempts=None,
            handle=None,
            state=None,
            available_at=available_at or self.now,
            lease_owner=None,
            lease_token=None,
            lease_expires_at=None,
            started_at=None,
            completed_at=None,
            created_at=self.now,
            priority=self.run.priority,
        )
        self.new_steps.append(row)
        self.steps[(step_id, item_index)] = row
        data: dict[str, Any] = {"step_type": step_type}
        if item_index != WHOLE_STEP:
            data["item_index"] = item_index
        self.emit(f"step.{status}", step_id, **data)
        return row

    def set_step_status(
        self, row: StepRow, status: StepStatus, *, event: EventType | None = None, **data: Any
    ) -> None:
        check_step_transition(row.status, status)
        if row.status == StepStatus.RUNNING and status == StepStatus.CANCELLED:
            # The execution in flight is stopped: its entry says how it ended.
            record_attempt(row, StepStatus.CANCELLED, self.now)
        row.status = status
        if status != StepStatus.RUNNING:
            row.lease_owner = None
            row.lease_token = None
            row.lease_expires_at = None
        if status in STEP_TERMINAL:
            row.completed_at = self.now
        if row.item_index != WHOLE_STEP:
            data["item_index"] = row.item_index
        # Every step event names its type: a watcher (or a metric) needs no memory of it.
        data.setdefault("step_type", row.step_type)
        self.emit(event or f"step.{status}", row.step_id, **data)

    def complete_step(self, row: StepRow, output: Any, handle: str | None = None) -> None:
        row.output = output
        row.handle = handle
        row.error = None
        data: dict[str, Any] = {"attempt": row.attempt}
        if handle is not None:
            data["handle"] = handle
        self.set_step_status(row, StepStatus.COMPLETED, **data)

    def remove_step(self, row: StepRow) -> None:
        """Take a step row out of the run (a for_each's items, before it runs again)."""
        del self.steps[(row.step_id, row.item_index)]
        if row in self.new_steps:
            self.new_steps.remove(row)
        else:
            self.removed.append(row.id)

    def outputs(self) -> dict[str, Any]:
        """Each completed step's output under its node id: the run's context."""
        return {
            step_id: row.output
            for (step_id, item), row in self.steps.items()
            if item == WHOLE_STEP and row.status == StepStatus.COMPLETED
        }

    def states(self) -> dict[str, StepState]:
        return {
            step_id: StepState(row.status, row.handle)
            for (step_id, item), row in self.steps.items()
            if item == WHOLE_STEP
        }

    # --- moving on ---------------------------------------------------------------------

    def advance(self, run_graph: RunGraph) -> Plan:
        """Queue what became ready, skip what cannot run, end the run when all has ended."""
        if self.run.status == RunStatus.PAUSED:
            return self._advance_paused(run_graph)
        if self.run.status not in (RunStatus.RUNNING, RunStatus.WAITING):
            return Plan()
        next_steps = plan(run_graph, self.states())
        for step_id in next_steps.queue:
            self._decide(step_id, run_graph.step_types[step_id], StepStatus.QUEUED)
        for step_id in next_steps.skip:
            self._decide(step_id, run_graph.step_types[step_id], StepStatus.SKIPPED)
        if next_steps.outcome == RunStatus.FAILED:
            self.fail_run(self._first_error())
        elif next_steps.outcome == RunStatus.COMPLETED:
            if self.run.status == RunStatus.WAITING:
                # The answer to its last waiting step resumed the run, and it is done.
                self.set_run_status(RunStatus.RUNNING, event=EventType.RUN_RESUMED)
            self.set_run_status(RunStatus.COMPLETED)
        else:
            self._settle_waiting()
        return next_steps

    def _decide(self, step_id: str, step_type: str, status: StepStatus) -> None:
        row = self.step(step_id)
        if row is None:
            self.add_step(step_id, step_type, status)
            return
        # A row set back to pending by a retry from a step.
        row.available_at = self.now
        if status == StepStatus.QUEUED and row.attempt > 0:
            # Its next attempt counts on: it never reuses an earlier idempotency key.
            self.set_step_status(row, StepStatus.RETRYING, attempt=row.attempt)
        else:
            self.set_step_status(row, status)

    def _advance_paused(self, run_graph: RunGraph) -> Plan:
        """A paused run records what its steps in flight came to but starts nothing: what
        became ready is held (see `engine.pausing`), and its end waits for the unpause."""
        self.hold_ready_steps()
        next_steps = plan(run_graph, self.states())
        for step_id in next_steps.queue:
            # A row set back to pending by a retry from a step stays pending: the unpause
            # decides it as `advance` does.
            if self.step(step_id) is None:
                self.add_step(step_id, run_graph.step_types[step_id], StepStatus.HELD)
        for step_id in next_steps.skip:
            self._decide(step_id, run_graph.step_types[step_id], StepStatus.SKIPPED)
        return Plan(skip=next_steps.skip)

    def hold_ready_steps(self) -> None:
        """Steps queued or due to retry are held; the event says which, for the unpause."""
        for row in self.steps.values():
            if row.status in (StepStatus.QUEUED, StepStatus.RETRYING):
                self.set_step_status(row, StepStatus.HELD, held_from=row.status)

    def _settle_waiting(self) -> None:
        """The run waits while nothing but waiting steps remain, and runs otherwise."""
        active = {row.status for row in self.steps.values() if row.status in STEP_ACTIVE}
        if self.run.status == RunStatus.RUNNING and active == {StepStatus.WAITING}:
            self.set_run_status(RunStatus.WAITING)
        elif self.run.status == RunStatus.WAITING and active - {StepStatus.WAITING}:
            self.set_run_status(RunStatus.RUNNING, event=EventType.RUN_RESUMED)

    def fail_run(self, error: str) -> None:
        self.cancel_active_steps()
        self.set_run_status(RunStatus.FAILED, error=error)

    def cancel_active_steps(self) -> None:
        for row in self.steps.values():
            if row.status in STEP_ACTIVE or row.status == StepStatus.PENDING:
                self.set_step_status(row, StepStatus.CANCELLED)

    def _first_error(self) -> str:
        failed = [row for row in self.steps.values() if row.status == StepStatus.FAILED]
        if not failed:
            return "the run failed"
        # At one moment a loop and its item fail together: the loop's error names the item,
        # and the rows' order (as the database returned them) must not decide.
        row = min(failed, key=lambda r: (r.completed_at or self.now, r.item_index != WHOLE_STEP))
        return f"step {row.step_id!r} failed: {row.error}"


def published(transactions: list[RunTransaction]) -> list[PublishedEvent]:
    """The committed events of these transitions, for the bus."""
    return [
        PublishedEvent(
            workspace_id=rt.run.workspace_id,
            run_id=rt.run.id,
            workflow_id=rt.run.workflow_id,
            seq=event.seq,
            event_type=event.event_type,
            step_id=event.step_id,
            data=event.data,
            created_at=event.created_at,
            lineage_id=rt.run.lineage_id,
        )
        for rt in _with_followers(transactions)
        for event in rt.events
    ]


def _with_followers(transactions: list[RunTransaction]) -> list[RunTransaction]:
    found: list[RunTransaction] = []
    for rt in transactions:
        found.append(rt)
        found += _with_followers(rt.followers)
    return found
