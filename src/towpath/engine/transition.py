"""One run's transition: the run row locked, its steps loaded, every change and its
events written back in the same transaction. Every write to a run goes through here."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
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
from towpath.engine.pg_writes import write_all
from towpath.engine.rows import (
    WHOLE_STEP,
    delete_steps,
    insert_runs,
    load_runs,
    load_steps,
    lock_and_load,
    refresh_leases,
    update_runs,
    write_events,
    write_logs,
    write_steps,
)
from towpath.engine.sql import database_now
from towpath.events.bus import PublishedEvent
from towpath.storage.rows import EventRow, RunRow, StepRow
from towpath.storage.runs import RunNotFound

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from towpath.engine.sql import Dialect, Gen

__all__ = ["WHOLE_STEP", "RunCache", "RunTransaction", "flush_runs", "open_runs", "published"]


class RunCache:
    """The step rows of runs this process changed last, by the run's last event seq.

    Every transition appends an event, so a run whose locked row still shows the seq we
    cached went through no one else's transition: its documents need no reload. Lease
    renewals write no event, so the lease columns are read again every time (a cheap
    query, no JSON). Rows go in only after their transaction committed, and a transition
    that opens a run takes its rows out: a transaction that rolls back leaves nothing
    half-changed behind, and no two transitions ever share a row.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._runs: OrderedDict[str, tuple[int, list[StepRow]]] = OrderedDict()

    def take(self, run: RunRow) -> list[StepRow] | None:
        found = self._runs.pop(run.id, None)
        if found is None or found[0] != run.last_seq:
            return None
        return found[1]

    def keep(self, transactions: list[RunTransaction]) -> None:
        for rt in transactions:
            # Only runs with work in hand: a run that waits (for a person, a timer, a
            # child) may wait for days, and must cost this worker no memory meanwhile.
            if rt.run.status in RUN_TERMINAL or rt.run.status == RunStatus.WAITING:
                self._runs.pop(rt.run.id, None)
                continue
            self._runs[rt.run.id] = (rt.run.last_seq, list(rt.steps.values()))
            self._runs.move_to_end(rt.run.id)
        while len(self._runs) > self._size:
            self._runs.popitem(last=False)


def open_runs(
    d: Dialect,
    run_ids: Iterable[str],
    workspace_id: str | None = None,
    cache: RunCache | None = None,
) -> Gen[dict[str, RunTransaction]]:
    """Lock and load these runs with their steps, in a few statements whatever their
    number; a run that does not exist (or is another workspace's) is left out."""
    opened, _ = yield from open_runs_at(d, run_ids, workspace_id, cache)
    return opened


def open_runs_at(
    d: Dialect,
    run_ids: Iterable[str],
    workspace_id: str | None = None,
    cache: RunCache | None = None,
) -> Gen[tuple[dict[str, RunTransaction], datetime]]:
    """`open_runs`, and the database's time. On PostgreSQL the time, the run locks and the
    steps are one round trip, so the cache of step rows is not read there."""
    # The run row's lock serialises every transition of one run, across processes.
    kept: dict[str, list[StepRow]] = {}
    if d.is_postgres:
        runs, loaded, at = yield from lock_and_load(d, run_ids, workspace_id)
        clock = (yield from database_now(d)) if at is None else at.astimezone(UTC)
    else:
        runs = yield from load_runs(d, run_ids, workspace_id)
        cached: dict[str, list[StepRow]] = {}
        if cache is not None:
            for run in runs:
                rows = cache.take(run)
                if rows is not None:
                    cached[run.id] = rows
        refreshed = yield from refresh_leases(d, cached)
        kept = {run_id: rows for run_id, rows in refreshed.items() if rows is not None}
        loaded = yield from load_steps(d, [run.id for run in runs if run.id not in kept])
        clock = yield from database_now(d)
    now = utcnow()
    opened = {
        run.id: RunTransaction(
            d,
            run,
            {(row.step_id, row.item_index): row for row in kept.get(run.id) or loaded[run.id]},
            now,
        )
        for run in runs
    }
    return opened, clock


def flush_runs(
    d: Dialect, transactions: Iterable[RunTransaction], logs: Sequence[Sequence[Any]] = ()
) -> Gen[None]:
    """Write what these transitions changed: runs, steps, new events and `logs` (rows of
    `LOG_COLUMNS`), a statement for each kind of write across all of them; on PostgreSQL
    one statement for all but new runs and removed steps."""
    new_runs: list[RunRow] = []
    changed_runs: list[RunRow] = []
    new_steps: list[StepRow] = []
    loaded_steps: list[StepRow] = []
    events: list[EventRow] = []
    removed: list[str] = []
    for rt in transactions:
        removed += rt.removed
        rt.removed = []
        if rt.run_is_new:
            new_runs.append(rt.run)
            rt.run_is_new = False
        elif rt._written < len(rt.events):
            # Every change to a run appends an event: no new event, nothing changed.
            changed_runs.append(rt.run)
        new_ids = {id(row) for row in rt.new_steps}
        new_steps += rt.new_steps
        loaded_steps += [row for row in rt.steps.values() if id(row) not in new_ids]
        rt.new_steps = []
        events += rt.events[rt._written :]
        rt._written = len(rt.events)
    yield from insert_runs(d, new_runs)
    # Removed rows go first: a row made anew may take a removed row's place.
    yield from delete_steps(d, removed)
    if d.is_postgres:
        yield from write_all(d, changed_runs, new_steps, loaded_steps, events, logs)
        return
    yield from update_runs(d, changed_runs)
    yield from write_steps(d, new_steps, loaded_steps)
    yield from write_events(d, events)
    yield from write_logs(logs)


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

    @classmethod
    def open(
        cls,
        d: Dialect,
        run_id: str,
        workspace_id: str | None = None,
        cache: RunCache | None = None,
    ) -> Gen[RunTransaction]:
        opened = yield from open_runs(d, [run_id], workspace_id, cache)
        if run_id not in opened:
            raise RunNotFound(run_id)
        return opened[run_id]

    @classmethod
    def create(cls, d: Dialect, run: RunRow) -> RunTransaction:
        return cls(d, run, {}, run.created_at, run_is_new=True)

    def flush(self) -> Gen[None]:
        """Write what changed: the run, its steps, its new events."""
        yield from flush_runs(self.d, [self])

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
        if self.run.status not in (RunStatus.RUNNING, RunStatus.WAITING):
            return Plan()
        next_steps = plan(run_graph, self.states())
        for step_id in next_steps.queue:
            self.add_step(step_id, run_graph.step_types[step_id], StepStatus.QUEUED)
        for step_id in next_steps.skip:
            self.add_step(step_id, run_graph.step_types[step_id], StepStatus.SKIPPED)
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
        row = min(failed, key=lambda r: r.completed_at or self.now)
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
        )
        for rt in transactions
        for event in rt.events
    ]
