"""Deleting the records no run policy governs, once finished and old: the SQL, in one place.

Each kind is a log or a ledger that grows with use (incoming webhook requests, posted
events, schedule ticks, outgoing deliveries, queue pollers, idempotency keys). A row is
deleted only when nothing reads it back any more: a tick still buffered or whose run is
in flight, a delivery still pending, a key still held, are kept whatever their age.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from towpath.engine.sql import execute, fetch

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.sql import Dialect, Gen


@dataclass(frozen=True)
class RecordKind:
    """A table pruned by age: its key, the column its age is read from, and the condition
    (after the age) a row must meet to be deleted."""

    table: str
    key: str
    age: str
    done: str = ""


# Old enough for `retention_records_days`. The scheduler reads back only buffered ticks
# and ticks whose run is in flight (it knows where it left off from `schedules`); the
# outbox only pending deliveries.
WEBHOOK_DELIVERIES = RecordKind("webhook_deliveries", "id", "created_at")
POSTED_EVENTS = RecordKind("posted_events", "id", "created_at")
SCHEDULE_FIRES = RecordKind(
    "schedule_fires",
    "id",
    "created_at",
    # `NOT in_flight`, not `in_flight = FALSE`: SQLite would read the index on `in_flight`
    # (nearly every row) instead of the one on the age.
    " AND NOT in_flight AND outcome NOT IN ('pending', 'buffered')",
)
QUEUE_POLLERS = RecordKind("queue_pollers", "(workspace_id, queue, worker_id)", "last_poll_at")
RECORDS = (WEBHOOK_DELIVERIES, POSTED_EVENTS, SCHEDULE_FIRES, QUEUE_POLLERS)

# Past their TTL a key answers nothing (a request with it starts afresh): deleted unless a
# request still holds it.
EXPIRED_KEYS = RecordKind(
    "idempotency_keys",
    "id",
    "expires_at",
    " AND (response_status IS NOT NULL OR locked_at IS NULL OR locked_at < ?)",
)

# Delivered or given up, and finished before the cutoff; their attempts go with them.
_OLD_DELIVERIES = (
    "SELECT id FROM subscription_deliveries WHERE status IN ('delivered', 'failed')"
    " AND finished_at < ? ORDER BY finished_at LIMIT ? {lock}"
)


def delete_old(
    d: Dialect, kind: RecordKind, before: datetime, limit: int, *extra: datetime
) -> Gen[int]:
    """Delete up to `limit` rows of `kind` older than `before`, oldest first; a row another
    transaction holds is left for the next batch. How many were deleted."""
    params = (d.time(before), *(d.time(value) for value in extra))
    # The condition again outside: a row changed meanwhile is looked at afresh.
    return (
        yield from execute(
            f"DELETE FROM {kind.table} WHERE {kind.key} IN ({oldest(d, kind)})"
            f" AND {kind.age} < ?{kind.done}",
            *params,
            limit,
            *params,
        )
    )


def oldest(d: Dialect, kind: RecordKind) -> str:
    """The keys of the oldest rows of `kind` past keeping (the cutoff, the extra times and
    how many are its parameters), read by the index on its age."""
    columns = kind.key.strip("()")
    lock = d.lock("FOR UPDATE SKIP LOCKED")
    return (
        f"SELECT {columns} FROM {kind.table} WHERE {kind.age} < ?{kind.done}"
        f" ORDER BY {kind.age} LIMIT ? {lock}"
    )


def old_deliveries(d: Dialect) -> str:
    """The oldest finished outgoing deliveries: the cutoff and how many are its parameters."""
    return _OLD_DELIVERIES.format(lock=d.lock("FOR UPDATE SKIP LOCKED"))


def delete_old_deliveries(d: Dialect, before: datetime, limit: int) -> Gen[int]:
    """Delete up to `limit` finished outgoing deliveries older than `before`, with their
    attempts (explicitly: SQLite cascades only with its foreign-key pragma on)."""
    rows = yield from fetch(old_deliveries(d), d.time(before), limit)
    if not rows:
        return 0
    ids = d.ids([row[0] for row in rows])
    chosen = d.any_of("delivery_id", "bigint")
    yield from execute(f"DELETE FROM delivery_attempts WHERE {chosen}", ids)
    chosen = d.any_of("id", "bigint")
    return (yield from execute(f"DELETE FROM subscription_deliveries WHERE {chosen}", ids))
