"""The Kafka side of the bridge's contract: a leased task as a tasks-topic message, and a
results-topic message read back into a task's answer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# A task id goes into a URL path: only the characters towpath's ids are made of.
TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


@dataclass(frozen=True)
class LeasedTask:
    """A task as towpath's poll hands it over; the bridge holds its lease while it is out."""

    task_id: str
    queue: str
    run_id: str
    step_id: str
    attempt: int
    input: Any
    idempotency_key: str
    lease_token: str

    @classmethod
    def from_poll(cls, found: dict[str, Any]) -> LeasedTask:
        return cls(
            task_id=str(found["task_id"]),
            queue=str(found["queue"]),
            run_id=str(found["run_id"]),
            step_id=str(found["step_id"]),
            attempt=int(found["attempt"]),
            input=found.get("input"),
            idempotency_key=str(found["idempotency_key"]),
            lease_token=str(found["lease_token"]),
        )

    def message(self) -> tuple[bytes, bytes]:
        """The tasks-topic message: key (the task id, so a task's messages share a partition)
        and JSON value."""
        value = {
            "task_id": self.task_id,
            "queue": self.queue,
            "run_id": self.run_id,
            "step_id": self.step_id,
            "attempt": self.attempt,
            "input": self.input,
            "idempotency_key": self.idempotency_key,
            "lease_token": self.lease_token,
        }
        return self.task_id.encode(), json.dumps(value, separators=(",", ":")).encode()


class MalformedResult(ValueError):
    """A results-topic message the bridge cannot turn into an answer; it is skipped."""


@dataclass(frozen=True)
class TaskResult:
    """An executor's answer to one task, under the lease token it was handed."""

    task_id: str
    lease_token: str
    completed: bool
    output: Any = None
    error: str = ""
    retryable: bool = True

    @classmethod
    def decode(cls, value: bytes | None) -> TaskResult:
        try:
            found = json.loads(value or b"")
        except ValueError as bad:
            raise MalformedResult(f"not JSON: {bad}") from None
        if not isinstance(found, dict):
            raise MalformedResult("not a JSON object")
        task_id, token, status = found.get("task_id"), found.get("lease_token"), found.get("status")
        if not isinstance(task_id, str) or not TASK_ID.match(task_id):
            raise MalformedResult("task_id is missing or not a task id")
        if not isinstance(token, str) or not token:
            raise MalformedResult("lease_token is missing")
        if status == "completed":
            return cls(task_id, token, completed=True, output=found.get("output"))
        if status != "failed":
            raise MalformedResult('status is neither "completed" nor "failed"')
        error, retryable = found.get("error"), found.get("retryable", True)
        if not isinstance(error, str) or not error:
            raise MalformedResult("a failed result needs an error")
        if not isinstance(retryable, bool):
            raise MalformedResult("retryable is not true or false")
        return cls(task_id, token, completed=False, error=error, retryable=retryable)
