"""The queues API as a worker calls it: poll, heartbeat, complete, fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class Task:
    """A leased task, as a poll hands it out."""

    task_id: str
    queue: str
    run_id: str
    step_id: str
    attempt: int
    input: Any
    idempotency_key: str
    lease_token: str
    lease_expires_at: str


class LeaseLost(Exception):
    """The lease is over (it ran out and the task went to another worker, or the step was
    cancelled or timed out): this worker's answer no longer counts."""

    def __init__(self, task_id: str, status_code: int, body: Any) -> None:
        super().__init__(f"the lease of task {task_id} is lost ({status_code}): {body}")
        self.task_id = task_id
        self.status_code = status_code
        self.body = body


class QueueClient:
    """Calls of the queues API on an `httpx.AsyncClient` that carries the API key."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def poll(
        self,
        queue: str,
        worker_id: str,
        *,
        max_tasks: int = 1,
        wait_seconds: float = 20,
        lease_seconds: int = 60,
    ) -> list[Task]:
        response = await self._http.post(
            f"/api/v1/queues/{queue}/poll",
            json={
                "worker_id": worker_id,
                "max_tasks": max_tasks,
                "wait_seconds": wait_seconds,
                "lease_seconds": lease_seconds,
            },
            # The server may hold the poll for `wait_seconds`: the read waits longer.
            timeout=wait_seconds + 30,
        )
        response.raise_for_status()
        return [Task(**task) for task in response.json()["tasks"]]

    async def heartbeat(self, task: Task, extend_seconds: int) -> dict[str, Any]:
        return await self._answer(task, "heartbeat", {"extend_seconds": extend_seconds})

    async def complete(self, task: Task, output: Any) -> dict[str, Any]:
        return await self._answer(task, "complete", {"output": output})

    async def fail(self, task: Task, error: str, *, retryable: bool = True) -> dict[str, Any]:
        return await self._answer(task, "fail", {"error": error, "retryable": retryable})

    async def _answer(self, task: Task, verb: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.post(
            f"/api/v1/queues/{task.queue}/tasks/{task.task_id}/{verb}",
            json={"lease_token": task.lease_token, **body},
        )
        if response.status_code in (403, 404, 409):
            raise LeaseLost(task.task_id, response.status_code, _body(response))
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
