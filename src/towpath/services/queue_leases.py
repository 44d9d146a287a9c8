"""Lease tokens of queued tasks: derived (HMAC) from a server secret, the task and the
lease's number, so nothing secret is stored, and a token of an earlier lease is told apart
from one the server never gave (409 against 403)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.domain.errors import Conflict, Forbidden
from towpath.steps.callback_tokens import callback_token, token_attempt, token_matches
from towpath.storage.secrets import server_secret

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.queue_tasks import TaskRow
    from towpath.storage.database import Database


class LeaseTokenInvalid(Forbidden):
    code = "LEASE_TOKEN_INVALID"


class LeaseStale(Conflict):
    """The token was one of this task's leases, but that lease is over."""

    code = "LEASE_STALE"


async def lease_key(db: Database) -> bytes:
    return (await server_secret(db, "queue_leases")).encode()


def lease_subject(task_id: str, lease: int) -> str:
    return f"queue-task:{task_id}:{lease}"


def check_lease(key: bytes, task: TaskRow, token: str, now: datetime) -> None:
    lease = token_attempt(token)
    if lease is None or not token_matches(key, lease_subject(task.id, lease), lease, token):
        raise LeaseTokenInvalid(
            "the lease token is not one this task was leased with",
            details={"field": "lease_token", "task_id": task.id},
        )
    status = task.status_at(now)
    if lease != task.leases or status != "leased":
        raise LeaseStale(
            f"this lease of task {task.id!r} is over: the task is {status}",
            details={"field": "lease_token", "task_id": task.id, "status": status},
        )


def lease_token(key: bytes, task: TaskRow) -> str:
    """The token of the task's current lease."""
    return callback_token(key, lease_subject(task.id, task.leases), task.leases)
