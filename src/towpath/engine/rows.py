"""Loading and writing runs, step runs and events (`storage.rows`) by batch.

Loads and writes take many runs at once: a batch of transitions costs a few statements,
not a few per run (on PostgreSQL each statement is a round trip).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from towpath.domain.states import STEP_TERMINAL
from towpath.engine.run_docs import RUN_DOCS
from towpath.engine.sql import Dialect, execute, execute_many, fetch
from towpath.storage.models import LIVE_STEPS
from towpath.storage.rows import (
    EVENT_COLUMNS,
    RUN_COLUMNS,
    STEP_COLUMNS,
    EventRow,
    RunRow,
    StepRow,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import datetime

    from towpath.engine.sql import Gen

WHOLE_STEP = -1

_RUN_TIMES = {
    "deadline_at",
    "started_at",
    "completed_at",
    "created_at",
    "updated_at",
    "scheduled_at",
}
_RUN_DOCS = {"input", "context"}
_STEP_TIMES = {"available_at", "lease_expires_at", "started_at", "completed_at", "created_at"}
_STEP_DOCS = {"input", "output", "attempts", "state"}


# What a transition may change of a run; the rest is fixed when the run starts.
RUN_MUTABLE = [
    "status",
    "error",
    "last_seq",
    "deadline_at",
    "started_at",
    "completed_at",
    "updated_at",
]
_STEP_COLUMN_SET = frozenset(STEP_COLUMNS) - {"id"}


def _codec(d: Dialect, column: str, times: set[str], docs: set[str], *, writing: bool) -> Any:
    """How a column's value crosses to or from the database (None: as it is)."""
    if column in times:
        return d.time if writing else d.read_time
    if column in docs:
        return d.doc if writing else d.read_doc
    return None


@cache
def _run_codecs(d: Dialect, writing: bool) -> list[Callable[[Any], Any] | None]:
    return [_codec(d, c, _RUN_TIMES, _RUN_DOCS, writing=writing) for c in RUN_COLUMNS]


@cache
def _step_codecs(d: Dialect, writing: bool) -> list[Callable[[Any], Any] | None]:
    return [_codec(d, c, _STEP_TIMES, _STEP_DOCS, writing=writing) for c in STEP_COLUMNS]


@cache
def _step_codec(d: Dialect, column: str) -> Callable[[Any], Any] | None:
    found: Callable[[Any], Any] | None = _codec(d, column, _STEP_TIMES, _STEP_DOCS, writing=True)
    return found


def _convert(codecs: list[Callable[[Any], Any] | None], values: Iterable[Any]) -> list[Any]:
    return [v if c is None or v is None else c(v) for c, v in zip(codecs, values, strict=True)]


def run_params(d: Dialect, run: RunRow) -> list[Any]:
    return _convert(_run_codecs(d, True), (getattr(run, c) for c in RUN_COLUMNS))


def step_params(d: Dialect, step: StepRow) -> list[Any]:
    return _convert(_step_codecs(d, True), (step.__dict__[c] for c in STEP_COLUMNS))


@cache
def _run_reading_codecs(d: Dialect) -> list[Callable[[Any], Any] | None]:
    # The documents are decoded by `RUN_DOCS`, once per run.
    pairs = zip(RUN_COLUMNS, _run_codecs(d, False), strict=True)
    return [None if c in _RUN_DOCS else codec for c, codec in pairs]


_RUN_DOC_PLACES = [(i, c) for i, c in enumerate(RUN_COLUMNS) if c in _RUN_DOCS]
_RUN_ID_PLACE = RUN_COLUMNS.index("id")


def run_from(d: Dialect, row: Sequence[Any]) -> RunRow:
    """A run from a row of `run_reads`' columns."""
    values = _convert(_run_reading_codecs(d), row)
    for place, column in _RUN_DOC_PLACES:
        values[place] = RUN_DOCS.read(values[_RUN_ID_PLACE], column, values[place])
    return RunRow(*values)


@cache
def run_reads(d: Dialect) -> str:
    """The columns a run is read with: on PostgreSQL its documents come as text, which
    `run_from` decodes once per run, not the driver at every transition."""
    return ", ".join(
        f"{c}::text AS {c}" if d.is_postgres and c in _RUN_DOCS else c for c in RUN_COLUMNS
    )


def step_from(d: Dialect, row: Sequence[Any]) -> StepRow:
    # Filled directly: a loaded row is clean, and __setattr__ would mark it changed.
    step = object.__new__(StepRow)
    step.__dict__.update(zip(STEP_COLUMNS, _convert(_step_codecs(d, False), row), strict=True))
    step.__dict__["changed"] = set()
    return step


_STEP_SELECT = f"SELECT {', '.join(STEP_COLUMNS)} FROM step_runs"
# A transition loads every step and the for_each items that are still live: an item
# that ended never changes again, so a loop of 10,000 items costs each transition of its
# run only the few items in flight (see `engine.fan_out`). It is word for word the
# predicate of the partial index `ix_step_runs_live`: SQLite uses such an index only for
# a query that repeats it.
_LIVE = f"({LIVE_STEPS})"


def is_live(row: StepRow) -> bool:
    return row.item_index < 0 or row.status not in STEP_TERMINAL


def load_runs(
    d: Dialect, run_ids: Iterable[str], workspace_id: str | None = None
) -> Gen[list[RunRow]]:
    """The runs, locked until the transaction ends, always in id order so two batches
    never wait for each other's locks in a circle (on SQLite the writer holds the file)."""
    ids = sorted(set(run_ids))
    if not ids:
        return []
    where = d.any_of("id") + (" AND workspace_id = ?" if workspace_id else "")
    params = (d.ids(ids), workspace_id) if workspace_id else (d.ids(ids),)
    select = f"SELECT {run_reads(d)} FROM runs"
    rows = yield from fetch(f"{select} WHERE {where} ORDER BY id {d.lock()}", *params)
    return [run_from(d, row) for row in rows]


def load_steps(d: Dialect, run_ids: Sequence[str]) -> Gen[dict[str, list[StepRow]]]:
    """Every step row of these runs, with their live for_each items, by run."""
    found: dict[str, list[StepRow]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return found
    rows = yield from fetch(
        f"{_STEP_SELECT} WHERE {d.any_of('run_id')} AND {_LIVE}", d.ids(run_ids)
    )
    for row in rows:
        step = step_from(d, row)
        found[step.run_id].append(step)
    return found


def refresh_leases(
    d: Dialect, cached: dict[str, list[StepRow]]
) -> Gen[dict[str, list[StepRow] | None]]:
    """Cached rows with their status and lease read again; None for a run whose rows
    differ from what was cached (they must be loaded whole)."""
    if not cached:
        return {}
    # Items that ended are left behind, as a load leaves them.
    cached = {run_id: [row for row in rows if is_live(row)] for run_id, rows in cached.items()}
    fresh = yield from fetch(
        "SELECT run_id, id, status, lease_owner, lease_token, lease_expires_at"
        f" FROM step_runs WHERE {d.any_of('run_id')} AND {_LIVE}",
        d.ids(list(cached)),
    )
    by_id = {row.id: row for rows in cached.values() for row in rows}
    counts = dict.fromkeys(cached, 0)
    spoiled: set[str] = set()
    for run_id, step_run_id, status, owner, token, expires in fresh:
        counts[run_id] += 1
        row = by_id.get(step_run_id)
        if row is None:
            spoiled.add(run_id)
            continue
        row.__dict__.update(
            status=status,
            lease_owner=owner,
            lease_token=token,
            lease_expires_at=d.read_time(expires),
        )
    return {
        run_id: None if run_id in spoiled or counts[run_id] != len(rows) else rows
        for run_id, rows in cached.items()
    }


def insert_runs(d: Dialect, runs: list[RunRow]) -> Gen[None]:
    marks = ", ".join("?" for _ in RUN_COLUMNS)
    yield from execute_many(
        f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({marks})",
        [run_params(d, run) for run in runs],
    )


_RUN_MUTABLE_TIMES = frozenset(RUN_MUTABLE) & _RUN_TIMES


def run_state(run: RunRow) -> tuple[Any, ...]:
    """The columns of `RUN_MUTABLE` as they are now: what a write compares against."""
    return tuple(getattr(run, c) for c in RUN_MUTABLE)


@cache
def _run_update(columns: tuple[str, ...]) -> str:
    return f"UPDATE runs SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"


def update_runs(d: Dialect, runs: Sequence[tuple[RunRow, tuple[Any, ...]]]) -> Gen[None]:
    """Write of each run the columns that differ from `written` (its `run_state` when it
    was loaded or last written), one statement for each set of columns: SQLite rewrites
    the entries of every index on a column a statement sets, changed or not, and most of
    a run's many indexes are on its status and times, which most steps leave as they are."""
    by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
    for run, written in runs:
        pairs = zip(RUN_MUTABLE, written, run_state(run), strict=True)
        changed = tuple(column for column, was, now in pairs if was != now)
        if changed:
            params = [
                d.time(getattr(run, c)) if c in _RUN_MUTABLE_TIMES else getattr(run, c)
                for c in changed
            ]
            by_columns.setdefault(changed, []).append([*params, run.id])
    for columns, rows in by_columns.items():
        yield from execute_many(_run_update(columns), rows)


_STEP_INSERT = (
    f"INSERT INTO step_runs ({', '.join(STEP_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in STEP_COLUMNS)})"
)
# The columns of a log line, in the order the rows an attempt's logs make give them.
LOG_COLUMNS = ["workspace_id", "run_id", "step_id", "level", "message", "created_at"]
_LOG_INSERT = (
    f"INSERT INTO run_logs ({', '.join(LOG_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in LOG_COLUMNS)})"
)
_EVENT_INSERT = (
    f"INSERT INTO run_events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)


def write_steps(d: Dialect, new: list[StepRow], loaded: Iterable[StepRow]) -> Gen[None]:
    """Insert the new rows; update the changed columns of the loaded ones, one statement
    for each set of columns that changed together."""
    yield from execute_many(_STEP_INSERT, [step_params(d, s) for s in new])
    for step in new:
        step.__dict__["changed"] = set()
    for columns, steps in changed_steps(loaded).items():
        rows = []
        for step in steps:
            state = step.__dict__
            params = []
            for column in columns:
                value = state[column]
                codec = _step_codec(d, column)
                params.append(value if codec is None or value is None else codec(value))
            params.append(step.id)
            rows.append(params)
        assignments = ", ".join(f"{c} = ?" for c in columns)
        yield from execute_many(f"UPDATE step_runs SET {assignments} WHERE id = ?", rows)


def changed_steps(loaded: Iterable[StepRow]) -> dict[tuple[str, ...], list[StepRow]]:
    """The loaded rows that changed, by the set of columns that changed together (an
    update statement each); each is marked clean, as it is about to be written."""
    found: dict[tuple[str, ...], list[StepRow]] = {}
    for step in loaded:
        state = step.__dict__
        changed = state["changed"]
        if not changed:
            continue
        columns = tuple(sorted(changed & _STEP_COLUMN_SET))
        state["changed"] = set()
        if columns:
            found.setdefault(columns, []).append(step)
    return found


def delete_steps(d: Dialect, step_run_ids: list[str]) -> Gen[None]:
    if step_run_ids:
        yield from execute(f"DELETE FROM step_runs WHERE {d.any_of('id')}", d.ids(step_run_ids))


def write_logs(logs: Sequence[Sequence[Any]]) -> Gen[None]:
    """Append log lines, rows of LOG_COLUMNS."""
    yield from execute_many(_LOG_INSERT, logs)


def write_events(d: Dialect, events: list[EventRow]) -> Gen[None]:
    rows = [
        [
            e.workspace_id,
            e.run_id,
            e.seq,
            e.event_type,
            e.step_id,
            d.doc(e.data),
            d.time(e.created_at),
        ]
        for e in events
    ]
    yield from execute_many(_EVENT_INSERT, rows)


def _pg_lock_and_load(scoped: bool) -> str:
    """Lock the runs and read, in the same statement, the database's time, each run's
    `last_seq` as the statement's snapshot saw it, and their live steps: a row per run
    ('r') and one per step ('s'), the other kind's columns null."""
    runs = run_reads(Dialect("postgresql"))
    steps = ", ".join(f"s.{c}" for c in STEP_COLUMNS)
    no_runs = ", ".join("NULL" for _ in RUN_COLUMNS)
    no_steps = ", ".join("NULL" for _ in STEP_COLUMNS)
    scope = " AND workspace_id = $2" if scoped else ""
    return (
        f"WITH locked AS (SELECT {runs} FROM runs WHERE id = ANY($1::varchar[]){scope}"
        " ORDER BY id FOR UPDATE)"
        " SELECT 'r', now(), (SELECT seen.last_seq FROM runs seen WHERE seen.id = locked.id),"
        f" locked.*, {no_steps} FROM locked"
        f" UNION ALL SELECT 's', NULL, NULL, {no_runs}, {steps} FROM step_runs s"
        f" WHERE s.run_id = ANY($1::varchar[]) AND {_LIVE}"
    )


def lock_and_load(
    d: Dialect, run_ids: Iterable[str], workspace_id: str | None = None
) -> Gen[tuple[list[RunRow], dict[str, list[StepRow]], datetime | None]]:
    """`load_runs` and `load_steps` in one round trip on PostgreSQL, with the database's
    time (None when no run was found).

    The steps are read in the statement's snapshot, taken before the run locks are granted:
    a run whose lock was held by another transaction that has since committed may have
    changed. Every change to a run raises its `last_seq`, so a run whose locked `last_seq`
    differs from the snapshot's has its steps read again, after the lock."""
    ids = sorted(set(run_ids))
    if not ids:
        return [], {}, None
    params = (ids, workspace_id) if workspace_id else (ids,)
    rows = yield from fetch(_PG_LOAD[bool(workspace_id)], *params)
    runs: list[RunRow] = []
    steps: dict[str, list[StepRow]] = {}
    stale: list[str] = []
    now = None
    width = len(RUN_COLUMNS)
    for row in rows:
        if row[0] == "r":
            run = run_from(d, row[3 : 3 + width])
            runs.append(run)
            steps[run.id] = []
            now = row[1]
            if row[2] != run.last_seq:
                stale.append(run.id)
        else:
            step = step_from(d, row[3 + width :])
            steps.setdefault(step.run_id, []).append(step)
    if stale:
        steps.update((yield from load_steps(d, stale)))
    # Steps of a run that was not found (another workspace's) are left out.
    found = {run.id for run in runs}
    return runs, {run_id: rows for run_id, rows in steps.items() if run_id in found}, now


_PG_LOAD = {scoped: _pg_lock_and_load(scoped) for scoped in (False, True)}
