"""Runs, step runs and events as plain rows: loaded, changed in memory, written back."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime  # noqa: TC003 - dataclass field types
from functools import cache
from typing import TYPE_CHECKING, Any

from towpath.engine.sql import execute, execute_many, fetch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from towpath.engine.sql import Dialect, Gen

WHOLE_STEP = -1

_RUN_TIMES = {"deadline_at", "started_at", "completed_at", "created_at", "updated_at"}
_RUN_DOCS = {"input", "context"}
_STEP_TIMES = {"available_at", "lease_expires_at", "started_at", "completed_at", "created_at"}
_STEP_DOCS = {"input", "output", "attempts", "state"}


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
    # Set by any change after loading, so a transition writes back only changed rows.
    dirty: bool = field(default=False, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "dirty":
            object.__setattr__(self, "dirty", True)

    def copy(self) -> StepRow:
        """A clean copy; documents are replaced, never changed in place, so sharing is safe."""
        twin = object.__new__(StepRow)
        twin.__dict__.update(self.__dict__)
        twin.__dict__["dirty"] = False
        return twin


@dataclass(frozen=True)
class EventRow:
    workspace_id: str
    run_id: str
    seq: int
    event_type: str
    step_id: str | None
    data: dict[str, Any]
    created_at: datetime


RUN_COLUMNS = [f.name for f in fields(RunRow)]
STEP_COLUMNS = [f.name for f in fields(StepRow) if f.name != "dirty"]
EVENT_COLUMNS = [f.name for f in fields(EventRow)]


def _codecs(
    d: Dialect, columns: list[str], times: set[str], docs: set[str], *, writing: bool
) -> list[Callable[[Any], Any] | None]:
    """Per column: how its value crosses to or from the database (None: as it is)."""
    time_codec = d.time if writing else d.read_time
    doc_codec = d.doc if writing else d.read_doc
    return [time_codec if c in times else doc_codec if c in docs else None for c in columns]


@cache
def _run_codecs(d: Dialect, writing: bool) -> list[Callable[[Any], Any] | None]:
    return _codecs(d, RUN_COLUMNS, _RUN_TIMES, _RUN_DOCS, writing=writing)


@cache
def _step_codecs(d: Dialect, writing: bool) -> list[Callable[[Any], Any] | None]:
    return _codecs(d, STEP_COLUMNS, _STEP_TIMES, _STEP_DOCS, writing=writing)


def _convert(codecs: list[Callable[[Any], Any] | None], values: Iterable[Any]) -> list[Any]:
    return [v if c is None or v is None else c(v) for c, v in zip(codecs, values, strict=True)]


def run_params(d: Dialect, run: RunRow) -> list[Any]:
    return _convert(_run_codecs(d, True), (getattr(run, c) for c in RUN_COLUMNS))


def step_params(d: Dialect, step: StepRow) -> list[Any]:
    return _convert(_step_codecs(d, True), (step.__dict__[c] for c in STEP_COLUMNS))


def run_from(d: Dialect, row: tuple[Any, ...]) -> RunRow:
    return RunRow(*_convert(_run_codecs(d, False), row))


def step_from(d: Dialect, row: tuple[Any, ...]) -> StepRow:
    # Filled directly: a loaded row is clean, and __setattr__ would mark it dirty.
    step = object.__new__(StepRow)
    step.__dict__.update(zip(STEP_COLUMNS, _convert(_step_codecs(d, False), row), strict=True))
    step.__dict__["dirty"] = False
    return step


_RUN_SELECT = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"
_STEP_SELECT = f"SELECT {', '.join(STEP_COLUMNS)} FROM step_runs"


def load_run(d: Dialect, run_id: str, workspace_id: str | None = None) -> Gen[RunRow | None]:
    """The run, locked until the transaction ends (on SQLite the writer holds the file)."""
    where = "id = ?" + (" AND workspace_id = ?" if workspace_id else "")
    params = (run_id, workspace_id) if workspace_id else (run_id,)
    rows = yield from fetch(f"{_RUN_SELECT} WHERE {where} {d.lock()}", *params)
    return run_from(d, rows[0]) if rows else None


def load_steps(d: Dialect, run_id: str) -> Gen[list[StepRow]]:
    rows = yield from fetch(f"{_STEP_SELECT} WHERE run_id = ?", run_id)
    return [step_from(d, row) for row in rows]


def refresh_leases(d: Dialect, run_id: str, rows: list[StepRow]) -> Gen[list[StepRow] | None]:
    """Cached rows with their status and lease read again; None if the rows differ."""
    fresh = yield from fetch(
        "SELECT id, status, lease_owner, lease_token, lease_expires_at FROM step_runs"
        " WHERE run_id = ?",
        run_id,
    )
    by_id = {row.id: row for row in rows}
    if len(fresh) != len(by_id):
        return None
    for step_id, status, owner, token, expires in fresh:
        row = by_id.get(step_id)
        if row is None:
            return None
        row.__dict__.update(
            status=status,
            lease_owner=owner,
            lease_token=token,
            lease_expires_at=d.read_time(expires),
        )
    return rows


def insert_run(d: Dialect, run: RunRow) -> Gen[None]:
    marks = ", ".join("?" for _ in RUN_COLUMNS)
    yield from execute(
        f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({marks})", *run_params(d, run)
    )


_RUN_UPDATE = ", ".join(f"{c} = ?" for c in RUN_COLUMNS if c != "id")


def update_run(d: Dialect, run: RunRow) -> Gen[None]:
    params = run_params(d, run)
    yield from execute(f"UPDATE runs SET {_RUN_UPDATE} WHERE id = ?", *params[1:], params[0])


_STEP_UPDATE = ", ".join(f"{c} = ?" for c in STEP_COLUMNS if c != "id")
_STEP_INSERT = (
    f"INSERT INTO step_runs ({', '.join(STEP_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in STEP_COLUMNS)})"
)
_EVENT_INSERT = (
    f"INSERT INTO run_events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)


def write_steps(d: Dialect, new: list[StepRow], loaded: list[StepRow]) -> Gen[None]:
    """Insert the new rows, update the loaded ones that changed."""
    yield from execute_many(_STEP_INSERT, [step_params(d, s) for s in new])
    rows = []
    for step in (s for s in loaded if s.dirty):
        params = step_params(d, step)
        rows.append([*params[1:], params[0]])
    for step in [*new, *loaded]:
        step.dirty = False
    yield from execute_many(f"UPDATE step_runs SET {_STEP_UPDATE} WHERE id = ?", rows)


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
