"""towpath's queues API as the bridge calls it: poll, heartbeat, complete and fail over HTTP,
each answer sorted into accepted, refused for good, or worth trying again."""

from __future__ import annotations

import logging
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from towpath.kafka_bridge.messages import LeasedTask

if TYPE_CHECKING:
    from towpath.kafka_bridge.messages import TaskResult

log = logging.getLogger("towpath.kafka_bridge")

# Answers about one task that no retry changes: its lease token is wrong (403), the task is
# gone (404), its lease is stale or the task already answered (409), the body was refused (422).
FINAL = frozenset({400, 403, 404, 409, 422})


class Answer(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"


class TowpathUnavailable(Exception):
    """towpath did not answer, or answered that it cannot now (429, 5xx): try again later."""


class BridgeMisconfigured(Exception):
    """towpath refused the bridge itself (its API key, its queue name): retrying cannot help."""


class QueueClient:
    """One queue of one towpath, called with the bridge's API key."""

    def __init__(self, http: httpx.AsyncClient, queue: str, worker_id: str) -> None:
        self._http = http
        self._base = f"/api/v1/queues/{quote(queue, safe='')}"
        self._worker_id = worker_id

    async def poll(
        self, max_tasks: int, wait_seconds: float, lease_seconds: int
    ) -> list[LeasedTask]:
        body = {
            "worker_id": self._worker_id,
            "max_tasks": max_tasks,
            "wait_seconds": wait_seconds,
            "lease_seconds": lease_seconds,
        }
        # The server holds a long poll open up to `wait_seconds`: the read may take that long.
        response = await self._post("/poll", body, httpx.Timeout(10.0, read=wait_seconds + 10.0))
        if response.status_code != 200:
            raise BridgeMisconfigured(_said(response))
        return [LeasedTask.from_poll(found) for found in response.json()["tasks"]]

    async def heartbeat(self, task: LeasedTask, extend_seconds: int) -> Answer:
        body = {"lease_token": task.lease_token, "extend_seconds": extend_seconds}
        return _answer(await self._post(_task_path(task.task_id, "heartbeat"), body))

    async def answer(self, result: TaskResult) -> Answer:
        """Completes or fails the task, as the result says."""
        body: dict[str, Any] = {"lease_token": result.lease_token}
        if result.completed:
            body["output"] = result.output
        else:
            body.update(error=result.error, retryable=result.retryable)
        action = "complete" if result.completed else "fail"
        response = await self._post(_task_path(result.task_id, action), body)
        answer = _answer(response)
        if answer is Answer.REFUSED:
            log.warning(
                "towpath refused the result of task %s: %s", result.task_id, _said(response)
            )
        return answer

    async def _post(
        self, path: str, body: dict[str, Any], limits: httpx.Timeout | None = None
    ) -> httpx.Response:
        try:
            if limits is None:
                response = await self._http.post(self._base + path, json=body)
            else:
                response = await self._http.post(self._base + path, json=body, timeout=limits)
        except httpx.TransportError as lost:
            raise TowpathUnavailable(f"{type(lost).__name__}: {lost}") from lost
        if response.status_code == 429 or response.status_code >= 500:
            raise TowpathUnavailable(_said(response))
        if response.status_code == 401:
            raise BridgeMisconfigured(_said(response))
        return response


def _task_path(task_id: str, action: str) -> str:
    return f"/tasks/{quote(task_id, safe='')}/{action}"


def _answer(response: httpx.Response) -> Answer:
    if response.status_code == 200:
        return Answer.ACCEPTED
    if response.status_code in FINAL:
        return Answer.REFUSED
    raise BridgeMisconfigured(_said(response))


def _said(response: httpx.Response) -> str:
    try:
        found = response.json()
    except ValueError:
        found = None
    code = found.get("error_code", "") if isinstance(found, dict) else ""
    return f"{response.status_code} {code}".strip()
