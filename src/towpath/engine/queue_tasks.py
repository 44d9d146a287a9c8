"""The SQL of queued tasks that shares a transaction with the engine: a `task` step's wait
puts its task on the queue, a poll leases tasks, and a worker's answer ends a task in the
transition that completes or fails its step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.ids import new_id
from towpath.domain.states import StepStatus
from towpath.engine.sql import database_now, execute, execute_many, fetch
from towpath.engine.work import idempotency_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import StepRow

# A task's step is still waiting for this very task: anything else ended it.
_STEP_WAITS = "s.status = 'waiting' AND s.attempt = t.attempt"
_COLUMNS = (
    "t.id, t.workspace_id, t.queue, t.run_id, t.step_run_id, t.step_id, t.attempt, t.input,"
    " t.idempotency_key, t.status, t.leases, t.lease_owner, t.lease_expires_at"
)


@dataclass
class TaskRow:
    id: str
    workspace_id: str
    queue: str
    run_id: str
    step_run_id: str
    step_id: str
    attempt: int
    input: Any
    idempotency_key: str
    status: str
    leases: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    # Whether the task's step still waits for it (not cancelled, timed out, or answered).
    step_waits: bool = True

    def status_at(self, now: datetime) -> str:
        """What a worker is told the task is: an open task whose step ended is cancelled,
        and a lease that ran out is back on the queue."""
        if self.status in ("ready", "leased") and not self.step_waits:
            return "cancelled"
        expired = self.lease_expires_at is not None and self.lease_expires_at <= now
        if self.status == "leased" and expired:
            return "ready"
        return self.status


def _task(d: Dialect, found: tuple[Any, ...], step_waits: bool = True) -> TaskRow:
    task = TaskRow(*found)
    task.input = d.read_doc(task.input)
    task.lease_expires_at = d.read_time(task.lease_expires_at)
    task.step_waits = step_waits
    return task


def enqueue_task(
    d: Dialect, rt: RunTransaction, row: StepRow, request: Mapping[str, Any]
) -> Gen[None]:
    """This attempt's task on its queue. The same attempt recorded again (a worker that
    lost the step's lease) finds its task already there."""
    key = idempotency_key(rt.run.id, row.step_id, row.item_index, row.attempt)
    yield from execute(
        "INSERT INTO queue_tasks (id, workspace_id, queue, run_id, step_run_id, step_id,"
        " attempt, input, idempotency_key, status, leases, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready', 0, ?)"
        " ON CONFLICT (step_run_id, attempt) DO NOTHING",
        new_id(),
        rt.run.workspace_id,
        str(request["queue"]),
        rt.run.id,
        row.id,
        row.step_id,
        row.attempt,
        d.doc(request.get("input")),
        key,
        d.time(rt.now),
    )


def lease_tasks(
    d: Dialect, workspace_id: str, queue: str, worker_id: str, limit: int, seconds: int
) -> Gen[tuple[list[TaskRow], datetime]]:
    """Up to `limit` tasks of a queue, oldest first, leased to `worker_id`: open ones, and
    ones whose lease ran out. Pollers in other processes skip the rows this one holds."""
    now = yield from database_now(d)
    found = yield from fetch(
        f"SELECT {_COLUMNS} FROM queue_tasks t JOIN step_runs s ON s.id = t.step_run_id"
        " WHERE t.workspace_id = ? AND t.queue = ?"
        " AND (t.status = 'ready' OR (t.status = 'leased' AND t.lease_expires_at <= ?))"
        f" AND {_STEP_WAITS} ORDER BY t.created_at LIMIT ?"
        f" {d.lock('FOR UPDATE OF t SKIP LOCKED')}",
        workspace_id,
        queue,
        d.time(now),
        limit,
    )
    tasks = [_task(d, row) for row in found]
    until = now + timedelta(seconds=seconds)
    for task in tasks:
        task.status, task.leases, task.lease_owner = "leased", task.leases + 1, worker_id
        task.lease_expires_at = until
    yield from execute_many(
        "UPDATE queue_tasks SET status = 'leased', leases = ?, lease_owner = ?,"
        " lease_expires_at = ? WHERE id = ?",
        [(task.leases, worker_id, d.time(until), task.id) for task in tasks],
    )
    return tasks, now


def note_poll(d: Dialect, workspace_id: str, queue: str, worker_id: str) -> Gen[None]:
    """The worker polled now: it counts among the queue's workers for a while."""
    now = yield from database_now(d)
    yield from execute(
        "INSERT INTO queue_pollers (workspace_id, queue, worker_id, last_poll_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (workspace_id, queue, worker_id)"
        " DO UPDATE SET last_poll_at = excluded.last_poll_at",
        workspace_id,
        queue,
        worker_id,
        d.time(now),
    )


def locked_task(
    d: Dialect, workspace_id: str, queue: str, task_id: str
) -> Gen[tuple[TaskRow | None, datetime]]:
    """One task of the caller's workspace and queue, locked until the transaction ends."""
    now = yield from database_now(d)
    found = yield from fetch(
        f"SELECT {_COLUMNS}, CASE WHEN {_STEP_WAITS} THEN 1 ELSE 0 END"
        " FROM queue_tasks t JOIN step_runs s ON s.id = t.step_run_id"
        f" WHERE t.id = ? AND t.workspace_id = ? AND t.queue = ? {d.lock('FOR UPDATE OF t')}",
        task_id,
        workspace_id,
        queue,
    )
    if not found:
        return None, now
    *columns, waits = found[0]
    return _task(d, tuple(columns), bool(waits)), now


def extend_lease(d: Dialect, task: TaskRow, until: datetime) -> Gen[None]:
    task.lease_expires_at = until
    yield from execute(
        "UPDATE queue_tasks SET lease_expires_at = ? WHERE id = ?", d.time(until), task.id
    )


def finish_task(d: Dialect, task: TaskRow, status: str, now: datetime) -> Gen[None]:
    task.status = status
    yield from execute(
        "UPDATE queue_tasks SET status = ?, finished_at = ?, lease_expires_at = NULL WHERE id = ?",
        status,
        d.time(now),
        task.id,
    )


def waiting_row(rt: RunTransaction, task: TaskRow) -> StepRow | None:
    """The step run the task is for, if it still waits at the task's attempt."""
    for row in rt.steps.values():
        if row.id == task.step_run_id:
            waits = row.status == StepStatus.WAITING and row.attempt == task.attempt
            return row if waits else None
    return None
