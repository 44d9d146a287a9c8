"""Runs opened for a transition and written back: the run rows locked, their steps loaded
(or taken from a worker's cache), every change and its events written in the same
transaction. Every write to a run goes through here."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.domain.states import RUN_TERMINAL, RunStatus
from towpath.engine.admission import freed_slot, release_slots
from towpath.engine.pg_writes import write_all
from towpath.engine.rows import (
    delete_steps,
    insert_runs,
    load_runs,
    load_steps,
    lock_and_load,
    refresh_leases,
    run_state,
    update_runs,
    write_events,
    write_logs,
    write_steps,
)
from towpath.engine.sql import database_now
from towpath.engine.step_records import write_metrics
from towpath.engine.transition import RunTransaction
from towpath.storage.runs import RunNotFound

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from towpath.engine.sql import Dialect, Gen
    from towpath.storage.rows import EventRow, RunRow, StepRow


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
    changed_runs: list[tuple[RunRow, tuple[Any, ...]]] = []
    new_steps: list[StepRow] = []
    loaded_steps: list[StepRow] = []
    events: list[EventRow] = []
    removed: list[str] = []
    freed: list[RunTransaction] = []
    metrics: list[list[Any]] = []
    for rt in transactions:
        if rt.run.concurrency_key is not None and freed_slot(rt, rt._written):
            freed.append(rt)
        removed += rt.removed
        rt.removed = []
        if rt.run_is_new:
            new_runs.append(rt.run)
            rt.run_is_new = False
        elif rt._written < len(rt.events):
            # Every change to a run appends an event: no new event, nothing changed.
            changed_runs.append((rt.run, rt.written_run))
        rt.written_run = run_state(rt.run)
        new_ids = {id(row) for row in rt.new_steps}
        new_steps += rt.new_steps
        loaded_steps += [row for row in rt.steps.values() if id(row) not in new_ids]
        rt.new_steps = []
        events += rt.events[rt._written :]
        rt._written = len(rt.events)
        metrics += rt.metrics
        rt.metrics = []
    # Removed rows go first: a row made anew may take a removed row's place.
    yield from delete_steps(d, removed)
    if d.is_postgres:
        runs = [run for run, _ in changed_runs]
        yield from write_all(d, runs, new_steps, loaded_steps, events, logs, metrics, new_runs)
    else:
        yield from insert_runs(d, new_runs)
        yield from update_runs(d, changed_runs)
        yield from write_steps(d, new_steps, loaded_steps)
        yield from write_events(d, events)
        yield from write_logs(logs)
        yield from write_metrics(metrics)
    if freed:
        # The slots these ends freed go to the runs waiting for them, in this transaction.
        yield from release_slots(d, freed, open_runs, flush_runs)


def open_run(
    d: Dialect, run_id: str, workspace_id: str | None = None, cache: RunCache | None = None
) -> Gen[RunTransaction]:
    """One run opened, or RunNotFound."""
    opened = yield from open_runs(d, [run_id], workspace_id, cache)
    if run_id not in opened:
        raise RunNotFound(run_id)
    return opened[run_id]


def flush_run(rt: RunTransaction) -> Gen[None]:
    """Write what changed of one run: the run, its steps, its new events."""
    yield from flush_runs(rt.d, [rt])
