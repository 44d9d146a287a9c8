"""Queues of `task` steps: workers poll for tasks and answer them with their lease token;
operators poll and answer, viewers see the queues' figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Path, Request

from towpath.api.control_keys import OnceKey
from towpath.api.deps import DB, Operator, RuntimeDep, Viewer
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.api.schemas.queues import (
    CompleteRequest,
    FailRequest,
    HeartbeatRequest,
    HeartbeatResponse,
    LeasedTask,
    PollRequest,
    PollResponse,
    QueueResponse,
    TaskAnswerResponse,
)
from towpath.services import queues as service
from towpath.services.queue_waiters import QueueWaiters
from towpath.steps.task import QUEUE_NAME_PATTERN

if TYPE_CHECKING:
    from towpath.storage.queues import QueueFigures

router = APIRouter(prefix="/queues", tags=["queues"])
Name = Annotated[
    str, Path(pattern=QUEUE_NAME_PATTERN, max_length=100, description="The queue's name")
]
ANSWERED = {**WITH_BODY, **errors(403, 404, 409, 422)}


def _waiters(request: Request) -> QueueWaiters:
    found: QueueWaiters = request.app.state.queue_waiters
    return found


Waiters = Annotated[QueueWaiters, Depends(_waiters)]


def _queue(figures: QueueFigures) -> QueueResponse:
    return QueueResponse(
        name=figures.name,
        ready=figures.ready,
        leased=figures.leased,
        oldest_ready_age_seconds=figures.oldest_ready_age_seconds,
        workers=figures.workers,
        last_poll_at=figures.last_poll_at,
    )


@router.get("")
async def list_queues(db: DB, caller: Viewer) -> list[QueueResponse]:
    """The workspace's queues with open tasks or workers."""
    return [_queue(figures) for figures in await service.list_queues(db, caller)]


@router.get("/{name}", responses=errors(404, 422))
async def get_queue(name: Name, db: DB, caller: Viewer) -> QueueResponse:
    """One queue's figures; a queue nothing was put on yet shows zeros."""
    return _queue(await service.get_queue(db, caller, name))


@router.post("/{name}/poll", responses={**WITH_BODY, **errors(404, 422)})
async def poll_queue(
    name: Name, body: PollRequest, runtime: RuntimeDep, waiters: Waiters, caller: Operator
) -> PollResponse:
    """Lease tasks; with none ready, wait up to `wait_seconds` for one (a long poll)."""
    leased = await service.poll(
        runtime, waiters, caller, name, body.worker_id, max_tasks=body.max_tasks,
        wait_seconds=body.wait_seconds,
        lease_seconds=body.lease_seconds,
    )  # fmt: skip
    return PollResponse(
        tasks=[
            LeasedTask.model_validate(
                {**vars(found.task), "task_id": found.task.id, "lease_token": found.lease_token}
            )
            for found in leased
        ]
    )


@router.post("/{name}/tasks/{task_id}/heartbeat", responses=ANSWERED)
async def heartbeat_task(
    name: Name, task_id: str, body: HeartbeatRequest, runtime: RuntimeDep, caller: Operator
) -> HeartbeatResponse:
    """Still at work: the lease now ends `extend_seconds` from now."""
    task = await service.heartbeat(
        runtime, caller, name, task_id, body.lease_token, body.extend_seconds
    )
    return HeartbeatResponse(
        task_id=task.id, status=task.status, lease_expires_at=task.lease_expires_at
    )


@router.post("/{name}/tasks/{task_id}/complete", responses=ANSWERED)
async def complete_task(
    name: Name,
    task_id: str,
    body: CompleteRequest,
    runtime: RuntimeDep,
    caller: Operator,
    key: OnceKey,
) -> TaskAnswerResponse:
    """The task's result: it becomes the step's output and the run goes on. Sent again
    with the same `X-Idempotency-Key` (a worker that lost the answer), the first answer."""

    async def act() -> TaskAnswerResponse:
        answer = await service.complete(
            runtime, caller, name, task_id, body.lease_token, body.output
        )
        return TaskAnswerResponse.model_validate(answer, from_attributes=True)

    return await key.answer(task_id, body.model_dump(mode="json"), TaskAnswerResponse, act)


@router.post("/{name}/tasks/{task_id}/fail", responses=ANSWERED)
async def fail_task(
    name: Name,
    task_id: str,
    body: FailRequest,
    runtime: RuntimeDep,
    caller: Operator,
    key: OnceKey,
) -> TaskAnswerResponse:
    """The worker could not do it: retried as the step's policy allows, or the step fails.
    Sent again with the same `X-Idempotency-Key`, the first answer."""

    async def act() -> TaskAnswerResponse:
        answer = await service.fail(
            runtime, caller, name, task_id, body.lease_token, body.error, retryable=body.retryable
        )
        return TaskAnswerResponse.model_validate(answer, from_attributes=True)

    return await key.answer(task_id, body.model_dump(mode="json"), TaskAnswerResponse, act)
