"""A run's row is written with only the columns its transition changed: SQLite rewrites
every index on a column an UPDATE sets, and most of the runs table's indexes are on its
status and times, which most steps leave alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from towpath.engine.rows import run_state, update_runs
from towpath.engine.sql import Dialect, ExecuteMany
from towpath.storage.rows import RunRow

SQLITE = Dialect("sqlite")
BEGAN = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def a_run(run_id: str) -> RunRow:
    return RunRow(
        id=run_id,
        workspace_id="w",
        workflow_id="f",
        status="running",
        trigger_type="manual",
        input={},
        context={},
        error=None,
        idempotency_key=None,
        parent_run_id=None,
        parent_step_id=None,
        last_seq=3,
        deadline_at=None,
        created_by=None,
        started_at=BEGAN,
        completed_at=None,
        created_at=BEGAN,
        updated_at=BEGAN,
        root_run_id=None,
        depth=0,
    )


def statements(runs: list[tuple[RunRow, tuple[Any, ...]]]) -> list[ExecuteMany]:
    return [op for op in update_runs(SQLITE, runs) if isinstance(op, ExecuteMany)]


def test_a_step_that_leaves_the_status_alone_sets_neither_status_nor_other_times() -> None:
    run = a_run("r1")
    written = run_state(run)
    later = BEGAN + timedelta(seconds=1)
    run.last_seq, run.updated_at = 5, later

    (only,) = statements([(run, written)])

    assert only.sql == "UPDATE runs SET last_seq = ?, updated_at = ? WHERE id = ?"
    assert [list(row) for row in only.rows] == [[5, SQLITE.time(later), "r1"]]


def test_runs_that_changed_different_columns_get_a_statement_each() -> None:
    ending, stepping, unchanged = a_run("r1"), a_run("r2"), a_run("r3")
    written = {run.id: run_state(run) for run in (ending, stepping, unchanged)}
    done = BEGAN + timedelta(seconds=2)
    ending.status, ending.completed_at, ending.last_seq = "completed", done, 9
    stepping.last_seq = 4

    found = statements([(run, written[run.id]) for run in (ending, stepping, unchanged)])

    assert {op.sql: [list(row) for row in op.rows] for op in found} == {
        "UPDATE runs SET status = ?, last_seq = ?, completed_at = ? WHERE id = ?": [
            ["completed", 9, SQLITE.time(done), "r1"]
        ],
        "UPDATE runs SET last_seq = ? WHERE id = ?": [[4, "r2"]],
    }


def test_a_value_set_back_to_what_was_written_is_not_written() -> None:
    run = a_run("r1")
    written = run_state(run)
    moved = replace(run, status="waiting")
    moved.status = "running"

    assert statements([(moved, written)]) == []
