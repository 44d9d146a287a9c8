"""Run, step-run, event and log queries, scoped to a workspace where a caller asks."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, func, or_, select

from towpath.domain.errors import NotFound
from towpath.domain.states import EventType, StepStatus
from towpath.storage.models import Run, RunEvent, RunLog, StepRun, Workflow
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.prepared import prepared
from towpath.storage.rows import RUN_COLUMNS, RunRow

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import BindParameter, Exists, Row, Select
    from sqlalchemy.ext.asyncio import AsyncSession

# The item_index of a step itself, not one of a for_each's items.
WHOLE = -1
SORTABLE = {"created_at": Run.created_at, "status": Run.status, "completed_at": Run.completed_at}


class RunNotFound(NotFound):
    code = "RUN_NOT_FOUND"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id!r} not found", details={"id": run_id})


# A run is read as the engine writes it: one Python type for a run everywhere.
_RUN_FIELDS = [Run.__table__.c[name] for name in RUN_COLUMNS]


def run_row(row: Any) -> RunRow:
    return RunRow(*row)


# The reads a dashboard makes all day are built once, with parameters: building a
# statement costs more than SQLite takes to run it.
_RUN_ID: BindParameter[str] = bindparam("run_id")
_WORKSPACE_ID: BindParameter[str] = bindparam("workspace_id")
_GET_RUN = prepared(select(*_RUN_FIELDS).where(Run.id == _RUN_ID))
_GET_WORKSPACE_RUN = _GET_RUN.where(Run.workspace_id == _WORKSPACE_ID)


async def get_run(session: AsyncSession, run_id: str, workspace_id: str | None = None) -> RunRow:
    if workspace_id is None:
        found = (await session.execute(_GET_RUN, {"run_id": run_id})).first()
    else:
        params = {"run_id": run_id, "workspace_id": workspace_id}
        found = (await session.execute(_GET_WORKSPACE_RUN, params)).first()
    if found is None:
        raise RunNotFound(run_id)
    return run_row(found)


async def list_runs(
    session: AsyncSession,
    workspace_id: str,
    page: PageRequest,
    *,
    workflow_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lineage_id: str | None = None,
    project_id: str | None = None,
    waiting_on: str | None = None,
    not_waiting_on: tuple[str, ...] = (),
) -> Page[RunRow]:
    """`waiting_on` keeps the runs with a step of that type waiting, `not_waiting_on` those
    with no step of these types waiting."""
    given = {
        "workflow_id": workflow_id,
        "lineage_id": lineage_id,
        "project_id": project_id,
        "waiting_on": waiting_on,
        "status": status,
        "since": since,
        "until": until,
    }
    params = {name: value for name, value in given.items() if value is not None}
    stmt = _runs_listed(tuple(params), not_waiting_on)
    params["workspace_id"] = workspace_id
    return await paginate(
        session,
        stmt,
        page,
        SORTABLE,
        "-created_at",
        tiebreak=Run.id,
        shape=run_row,
        params=params,
    )


_LIST_FILTERS: dict[str, Any] = {
    "workflow_id": lambda: Run.workflow_id == bindparam("workflow_id"),
    "lineage_id": lambda: Run.lineage_id == bindparam("lineage_id"),
    "project_id": lambda: Run.project_id == bindparam("project_id"),
    "waiting_on": lambda: _waiting_step(bindparam("waiting_on")),
    "status": lambda: Run.status == bindparam("status"),
    "since": lambda: Run.created_at >= bindparam("since", type_=Run.created_at.type),
    "until": lambda: Run.created_at < bindparam("until", type_=Run.created_at.type),
}


@functools.lru_cache(maxsize=256)
def _runs_listed(filters: tuple[str, ...], not_waiting_on: tuple[str, ...]) -> Select[Any]:
    """The list's statement for the filters given, their values bound by name: built once
    for each set of filters, not at every request."""
    stmt = select(*_RUN_FIELDS).where(Run.workspace_id == bindparam("workspace_id"))
    for name in filters:
        stmt = stmt.where(_LIST_FILTERS[name]())
    if not_waiting_on:
        stmt = stmt.where(~_waiting_step(*not_waiting_on))
    return prepared(stmt)


def _waiting_step(*step_types: str | BindParameter[str]) -> Exists:
    return (
        select(StepRun.id)
        .where(
            StepRun.run_id == Run.id,
            StepRun.item_index == WHOLE,
            StepRun.status == StepStatus.WAITING,
            StepRun.step_type.in_(step_types),
        )
        .exists()
    )


# A step's row is made when it is queued (or skipped), but the steps one transition makes
# ready share its `created_at` (a chain of inline steps runs in one), so the event that
# queued each step says the order: its first `step.queued`, or the `step.skipped` or
# `step.cancelled` of one that never ran. An item of a for_each goes by its own event.
_READY_EVENTS = (EventType.STEP_QUEUED, EventType.STEP_SKIPPED, EventType.STEP_CANCELLED)
# The steps of a view of the run: cheaper, by the moment they were made, then node id.
_MADE_ORDER = (StepRun.created_at, StepRun.step_id, StepRun.item_index)


_STEP_RUN_COLUMNS = (
    StepRun.id,
    StepRun.step_id,
    StepRun.step_type,
    StepRun.item_index,
    StepRun.status,
    StepRun.attempt,
    StepRun.attempts,
    StepRun.input,
    StepRun.output,
    StepRun.error,
    StepRun.handle,
    StepRun.state,
    StepRun.started_at,
    StepRun.completed_at,
)


def _step_runs_statement() -> Select[Any]:
    item = func.coalesce(RunEvent.data["item_index"].as_integer(), WHOLE)
    readied = (
        select(RunEvent.step_id, item.label("item_index"), RunEvent.seq)
        .where(RunEvent.run_id == _RUN_ID, or_(*(RunEvent.event_type == e for e in _READY_EVENTS)))
        .subquery()
    )
    first = (
        select(readied.c.step_id, readied.c.item_index, func.min(readied.c.seq).label("seq"))
        .group_by(readied.c.step_id, readied.c.item_index)
        .subquery()
    )
    return (
        select(*_STEP_RUN_COLUMNS)
        .outerjoin(
            first,
            and_(first.c.step_id == StepRun.step_id, first.c.item_index == StepRun.item_index),
        )
        .where(StepRun.run_id == _RUN_ID)
        # A row without such an event (none is known) goes last, by when it was made.
        .order_by(first.c.seq.is_(None), first.c.seq, *_MADE_ORDER)
    )


_STEP_RUNS = prepared(_step_runs_statement())


async def step_runs(session: AsyncSession, run_id: str) -> Sequence[Row[Any]]:
    """The run's steps and items in the order they became ready, each with the columns of
    a `StepRun` that a reader is shown (columns, not entities: loading entities through
    the ORM cost as much again as the statement)."""
    rows: Sequence[Row[Any]] = (await session.execute(_STEP_RUNS, {"run_id": run_id})).all()
    return rows


@dataclass(frozen=True)
class StepGlance:
    """A step of a run (not an item of a for_each) as a view of the run reads it: only
    what its status makes useful is loaded (a completed step's output, the state of one
    that waits or is parked on a timer, the attempts of one that waits to retry)."""

    step_id: str
    step_type: str
    status: str
    attempt: int
    output: Any
    state: Any
    attempts: Any
    started_at: datetime | None
    available_at: datetime | None


_STATUS = StepRun.status
_STEP_GLANCES = prepared(
    select(
        StepRun.step_id,
        StepRun.step_type,
        _STATUS,
        StepRun.attempt,
        case((_STATUS == StepStatus.COMPLETED, StepRun.output)),
        # Two comparisons, not IN: SQLAlchemy expands an IN's list again at every execution.
        case((or_(_STATUS == StepStatus.WAITING, _STATUS == StepStatus.QUEUED), StepRun.state)),
        case((_STATUS == StepStatus.RETRYING, StepRun.attempts)),
        StepRun.started_at,
        StepRun.available_at,
    )
    .where(StepRun.run_id == _RUN_ID, StepRun.item_index == WHOLE)
    .order_by(*_MADE_ORDER)
)


async def step_glances(session: AsyncSession, run_id: str) -> list[StepGlance]:
    """Every step of the run, in one query, in the order they were made: the order they
    became ready, but for steps made ready by one transition, which go by node id."""
    rows = await session.execute(_STEP_GLANCES, {"run_id": run_id})
    return [StepGlance(*row) for row in rows]


def _run_and_size_statement(counted: Any) -> Select[Any]:
    return prepared(
        select(*_RUN_FIELDS, counted)
        .join(Workflow, Workflow.id == Run.workflow_id)
        .where(Run.id == _RUN_ID, Run.workspace_id == _WORKSPACE_ID)
    )


_RUN_AND_SIZE = {
    "postgresql": _run_and_size_statement(func.jsonb_array_length(Workflow.definition["nodes"])),
    "sqlite": _run_and_size_statement(func.json_array_length(Workflow.definition, "$.nodes")),
}


async def run_and_size(session: AsyncSession, run_id: str, workspace_id: str) -> tuple[RunRow, int]:
    """The run and how many nodes (steps) its workflow's graph has, counted by the database
    in the same statement."""
    stmt = _RUN_AND_SIZE[session.get_bind().dialect.name]
    params = {"run_id": run_id, "workspace_id": workspace_id}
    found = (await session.execute(stmt, params)).first()
    if found is None:
        raise RunNotFound(run_id)
    return run_row(found[:-1]), int(found[-1] or 0)


async def outputs(session: AsyncSession, run_id: str) -> dict[str, Any]:
    """Each completed step's output under its node id: the run's context."""
    rows = await session.execute(
        select(StepRun.step_id, StepRun.output).where(
            StepRun.run_id == run_id,
            StepRun.item_index == -1,
            StepRun.status == StepStatus.COMPLETED,
        )
    )
    return {step_id: output for step_id, output in rows}


async def events_after(
    session: AsyncSession, run_id: str, after: int, limit: int
) -> list[RunEvent]:
    rows = await session.scalars(
        select(RunEvent)
        .where(RunEvent.run_id == run_id, RunEvent.seq > after)
        .order_by(RunEvent.seq)
        .limit(limit)
    )
    return list(rows)


async def logs_after(session: AsyncSession, run_id: str, after: int, limit: int) -> list[RunLog]:
    rows = await session.scalars(
        select(RunLog)
        .where(RunLog.run_id == run_id, RunLog.id > after)
        .order_by(RunLog.id)
        .limit(limit)
    )
    return list(rows)


async def waiting_for_event(session: AsyncSession, workspace_id: str) -> list[StepRun]:
    rows = await session.scalars(
        select(StepRun).where(
            StepRun.workspace_id == workspace_id,
            StepRun.status == StepStatus.WAITING,
            StepRun.step_type == "wait_for_event",
        )
    )
    return list(rows)
