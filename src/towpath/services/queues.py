"""Workers outside towpath take the tasks of `task` steps from a queue: poll (a lease),
heartbeat, complete or fail. An answer ends the task in the same transaction as the one
that completes or fails its step, so a task is answered at most once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.domain.errors import NotFound, Unprocessable
from towpath.domain.states import StepStatus
from towpath.engine.attempts import settle_waiting_attempt
from towpath.engine.documents import unstorable
from towpath.engine.fan_out import item_settled
from towpath.engine.outcomes import fail_or_retry, step_retry_policy
from towpath.engine.queue_tasks import (
    TaskRow,
    extend_lease,
    finish_task,
    lease_tasks,
    locked_task,
    note_poll,
    waiting_row,
)
from towpath.engine.rows import WHOLE_STEP
from towpath.services.queue_leases import check_lease, lease_key, lease_token
from towpath.steps.execution import Failed
from towpath.storage.queues import QueueFigures, queue_figures, task_run

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.services.queue_waiters import QueueWaiters
    from towpath.storage.database import Database

# A poller waiting on a queue looks again this often: tasks another process put on it
# and leases that ran out are found without a wake-up from this process.
RECHECK_SECONDS = 1.0


class TaskNotFound(NotFound):
    code = "TASK_NOT_FOUND"


class TaskOutputInvalid(Unprocessable):
    code = "TASK_OUTPUT_INVALID"


@dataclass(frozen=True)
class Leased:
    task: TaskRow
    lease_token: str


@dataclass(frozen=True)
class TaskAnswer:
    task_id: str
    status: str
    run_id: str
    step_id: str
    run_status: str
    step_status: str


async def poll(
    runtime: Runtime,
    waiters: QueueWaiters,
    caller: Principal,
    queue: str,
    worker_id: str,
    *,
    max_tasks: int,
    wait_seconds: float,
    lease_seconds: int,
) -> list[Leased]:
    """Lease up to `max_tasks` tasks; with none ready, wait up to `wait_seconds` (no longer
    than the server holds a poll) for one."""
    d, ws = runtime.driver.dialect, caller.workspace_id
    await runtime.driver.run(lambda: note_poll(d, ws, queue, worker_id))
    key = await lease_key(runtime.db)
    deadline = time.monotonic() + min(wait_seconds, waiters.max_wait_seconds)
    with waiters.waiting(ws, queue) as woken:
        while True:
            # Cleared before looking: a task put on the queue meanwhile wakes the wait below.
            woken.clear()
            tasks, _ = await runtime.driver.run(
                lambda: lease_tasks(d, ws, queue, worker_id, max_tasks, lease_seconds)
            )
            left = deadline - time.monotonic()
            if tasks or left <= 0:
                break
            try:
                async with asyncio.timeout(min(left, RECHECK_SECONDS)):
                    await woken.wait()
            except TimeoutError:
                pass
    return [Leased(task, lease_token(key, task)) for task in tasks]


async def heartbeat(
    runtime: Runtime, caller: Principal, queue: str, task_id: str, token: str, seconds: int
) -> TaskRow:
    """The worker is still at it: its lease now ends `seconds` from now."""
    d, key = runtime.driver.dialect, await lease_key(runtime.db)

    def extend() -> Gen[TaskRow]:
        task, now = yield from locked_task(d, caller.workspace_id, queue, task_id)
        if task is None:
            raise _not_found(task_id)
        check_lease(key, task, token, now)
        yield from extend_lease(d, task, now + timedelta(seconds=seconds))
        return task

    return await runtime.driver.run(extend)


async def complete(
    runtime: Runtime, caller: Principal, queue: str, task_id: str, token: str, output: Any
) -> TaskAnswer:
    problem = unstorable(output, "output")
    if problem is not None:
        raise TaskOutputInvalid(problem, details={"field": "output"})

    def apply(rt: RunTransaction, task: TaskRow, prepared: PreparedWorkflow) -> Gen[None]:
        row = waiting_row(rt, task)
        assert row is not None  # noqa: S101 - check_lease found the step waiting
        rt.emit("task.completed", row.step_id, task_id=task.id, attempt=task.attempt)
        settle_waiting_attempt(row, "completed", rt.now, task_id=task.id)
        rt.complete_step(row, output)
        yield from finish_task(rt.d, task, "completed", rt.now)
        if row.item_index != WHOLE_STEP:
            yield from item_settled(rt, row)

    return await _answer(runtime, caller, queue, task_id, token, apply)


async def fail(
    runtime: Runtime,
    caller: Principal,
    queue: str,
    task_id: str,
    token: str,
    error: str,
    *,
    retryable: bool,
) -> TaskAnswer:
    """The worker could not do it: a retryable failure is tried again as the step's retry
    policy allows (a new attempt, a new task); any other fails the step."""

    def apply(rt: RunTransaction, task: TaskRow, prepared: PreparedWorkflow) -> Gen[None]:
        row = waiting_row(rt, task)
        assert row is not None  # noqa: S101 - check_lease found the step waiting
        rt.emit("task.failed", row.step_id, task_id=task.id, attempt=task.attempt, error=error)
        settle_waiting_attempt(row, "failed", rt.now, task_id=task.id, error=error)
        reported = Failed(f"the worker reported a failure: {error}", retryable=retryable)
        fail_or_retry(rt, row, step_retry_policy(prepared, row.step_id), reported, runtime.rng)
        yield from finish_task(rt.d, task, "failed", rt.now)
        if row.item_index != WHOLE_STEP and row.status == StepStatus.FAILED:
            yield from item_settled(rt, row)

    return await _answer(runtime, caller, queue, task_id, token, apply)


def _not_found(task_id: str) -> TaskNotFound:
    return TaskNotFound(f"task {task_id!r} not found", details={"id": task_id})


async def _answer(
    runtime: Runtime, caller: Principal, queue: str, task_id: str, token: str, apply: Any
) -> TaskAnswer:
    ws = caller.workspace_id
    async with runtime.db.read() as session:
        run_id = await task_run(session, ws, queue, task_id)
    if run_id is None:
        raise _not_found(task_id)
    key = await lease_key(runtime.db)
    ended: list[TaskRow] = []

    def change(rt: RunTransaction, prepared: PreparedWorkflow) -> Gen[None]:
        # The run's row is locked first, then the task's: the same order as every answer.
        task, now = yield from locked_task(rt.d, ws, queue, task_id)
        if task is None:
            raise _not_found(task_id)
        check_lease(key, task, token, now)
        yield from apply(rt, task, prepared)
        rt.advance(prepared.graph)
        ended.append(task)

    rt = await runtime.change_run(run_id, ws, change)
    task = ended[-1]
    row = rt.step(task.step_id)
    step_status = row.status if row is not None else ""
    return TaskAnswer(task.id, task.status, run_id, task.step_id, rt.run.status, step_status)


async def list_queues(
    db: Database, caller: Principal, name: str | None = None
) -> list[QueueFigures]:
    async with db.read() as session:
        return await queue_figures(session, utcnow(), caller.workspace_id, name)


async def get_queue(db: Database, caller: Principal, name: str) -> QueueFigures:
    """One queue's figures; a queue nothing was put on yet shows zeros."""
    found = await list_queues(db, caller, name)
    return found[0] if found else QueueFigures(caller.workspace_id, name)
