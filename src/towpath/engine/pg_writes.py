"""A transition's writes on PostgreSQL as one statement: every kind of write (runs, new and
changed step runs, events, log lines) a data-modifying CTE fed by arrays, so a batch of
transitions writes in one round trip, not one per kind of write."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from towpath.engine.rows import (
    LOG_COLUMNS,
    RUN_MUTABLE,
    changed_steps,
    run_params,
    step_params,
)
from towpath.engine.sql import execute
from towpath.engine.step_records import METRIC_COLUMNS
from towpath.storage.rows import EVENT_COLUMNS, RUN_COLUMNS, STEP_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from towpath.engine.sql import Dialect, Gen
    from towpath.storage.rows import EventRow, RunRow, StepRow

_TIME = "timestamptz"
_DOC = "jsonb"
_STEP_TYPES = {
    "item_index": "int",
    "attempt": "int",
    "priority": "int",
    "error": "text",
    "input": _DOC,
    "output": _DOC,
    "attempts": _DOC,
    "state": _DOC,
    "available_at": _TIME,
    "lease_expires_at": _TIME,
    "started_at": _TIME,
    "completed_at": _TIME,
    "created_at": _TIME,
}
_RUN_TYPES = {"error": "text", "last_seq": "bigint"} | {
    c: _TIME for c in ("deadline_at", "started_at", "completed_at", "updated_at")
}
_NEW_RUN_TYPES = _RUN_TYPES | {
    "input": _DOC,
    "context": _DOC,
    "depth": "int",
    "priority": "int",
    "created_at": _TIME,
    "scheduled_at": _TIME,
}
_EVENT_TYPES = {"seq": "bigint", "data": _DOC, "created_at": _TIME}
_LOG_TYPES = {"message": "text", "created_at": _TIME}
_METRIC_TYPES = {"value": "float8", "created_at": _TIME}


def _arrays(columns: Sequence[str], types: dict[str, str]) -> str:
    # Documents cross as JSON text: a list inside an array would be taken as a dimension.
    return ", ".join(f"?::{_array_type(types.get(c, 'varchar'))}[]" for c in columns)


def _array_type(kind: str) -> str:
    return "text" if kind == _DOC else kind


def _value(column: str, types: dict[str, str]) -> str:
    return f"v.{column}::jsonb" if types.get(column) == _DOC else f"v.{column}"


def _columns(
    rows: Sequence[Sequence[Any]], columns: Sequence[str], types: dict[str, str]
) -> list[list[Any]]:
    """Rows as one list per column, what `unnest` takes; documents as JSON text."""
    found = []
    for i, column in enumerate(columns):
        values = [row[i] for row in rows]
        if types.get(column) == _DOC:
            values = [None if v is None else json.dumps(v) for v in values]
        found.append(values)
    return found


@lru_cache(maxsize=256)
def _insert(table: str, columns: tuple[str, ...], types: tuple[tuple[str, str], ...]) -> str:
    kinds = dict(types)
    names = ", ".join(columns)
    values = ", ".join(_value(c, kinds) for c in columns)
    rows = f"unnest({_arrays(columns, kinds)}) AS v({names})"
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM {rows}"


@lru_cache(maxsize=256)
def _update(table: str, columns: tuple[str, ...], types: tuple[tuple[str, str], ...]) -> str:
    kinds = dict(types)
    arrays = _arrays(("id", *columns), kinds)
    assignments = ", ".join(f"{c} = {_value(c, kinds)}" for c in columns)
    names = ", ".join(("id", *columns))
    rows = f"unnest({arrays}) AS v({names})"
    return f"UPDATE {table} t SET {assignments} FROM {rows} WHERE t.id = v.id"


def write_all(
    d: Dialect,
    runs: list[RunRow],
    new_steps: list[StepRow],
    loaded_steps: Iterable[StepRow],
    events: list[EventRow],
    logs: Sequence[Sequence[Any]] = (),
    metrics: Sequence[Sequence[Any]] = (),
    new_runs: Sequence[RunRow] = (),
) -> Gen[None]:
    """Insert the new runs, update the others, insert the new step runs, update the
    changed columns of the loaded ones, append the events, log lines and metrics: one
    statement, one round trip. (A row's references are checked at the statement's end,
    so a new run's steps and events may be written beside it.)"""
    parts: list[str] = []
    params: list[Any] = []
    step_types = tuple(_STEP_TYPES.items())
    if new_runs:
        parts.append(_insert("runs", tuple(RUN_COLUMNS), tuple(_NEW_RUN_TYPES.items())))
        params += _columns([run_params(d, run) for run in new_runs], RUN_COLUMNS, _NEW_RUN_TYPES)
    if runs:
        # PostgreSQL takes times and documents as they are (see `Dialect`).
        rows = [[run.id, *(getattr(run, c) for c in RUN_MUTABLE)] for run in runs]
        parts.append(_update("runs", tuple(RUN_MUTABLE), tuple(_RUN_TYPES.items())))
        params += _columns(rows, ["id", *RUN_MUTABLE], _RUN_TYPES)
    if new_steps:
        parts.append(_insert("step_runs", tuple(STEP_COLUMNS), step_types))
        params += _columns([step_params(d, s) for s in new_steps], STEP_COLUMNS, _STEP_TYPES)
        for step in new_steps:
            step.__dict__["changed"] = set()
    for columns, steps in changed_steps(loaded_steps).items():
        rows = [[step.id, *(step.__dict__[c] for c in columns)] for step in steps]
        parts.append(_update("step_runs", columns, step_types))
        params += _columns(rows, ["id", *columns], _STEP_TYPES)
    if events:
        rows = [[getattr(e, c) for c in EVENT_COLUMNS] for e in events]
        parts.append(_insert("run_events", tuple(EVENT_COLUMNS), tuple(_EVENT_TYPES.items())))
        params += _columns(rows, EVENT_COLUMNS, _EVENT_TYPES)
    if logs:
        parts.append(_insert("run_logs", tuple(LOG_COLUMNS), tuple(_LOG_TYPES.items())))
        params += _columns(logs, LOG_COLUMNS, _LOG_TYPES)
    if metrics:
        parts.append(_insert("run_metrics", METRIC_COLUMNS, tuple(_METRIC_TYPES.items())))
        params += _columns(metrics, METRIC_COLUMNS, _METRIC_TYPES)
    if not parts:
        return
    if len(parts) == 1:
        yield from execute(parts[0], *params)
        return
    # Every data-modifying CTE runs to completion, whether or not the query reads it.
    ctes = ", ".join(f"w{i} AS ({part})" for i, part in enumerate(parts))
    yield from execute(f"WITH {ctes} SELECT 1", *params)
