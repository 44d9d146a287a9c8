"""Retention of the records beside the runs: the logs and ledgers past
`retention_records_days`, and the idempotency keys past their TTL, deleted a small batch
per transaction under the prune lock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from towpath.engine.record_pruning import (
    EXPIRED_KEYS,
    RECORDS,
    RecordKind,
    delete_old,
    delete_old_deliveries,
)
from towpath.engine.sql import fetch
from towpath.services.retention import PRUNE_LOCK, Batch

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen

# What one batch deletes: the rows of one kind, or the outgoing deliveries (None).
Deletion = RecordKind | None


async def prune_records_batch(
    runtime: Runtime, kind: Deletion, before: datetime, size: int, *extra: datetime
) -> Batch:
    """Delete up to `size` rows of one kind older than `before`; nothing while another
    process holds the prune lock."""
    d = runtime.driver.dialect

    def transition() -> Gen[Batch]:
        if d.is_postgres:
            held = yield from fetch("SELECT pg_try_advisory_xact_lock(?)", PRUNE_LOCK)
            if not held[0][0]:
                return Batch(0, full=False)
        if kind is None:
            deleted = yield from delete_old_deliveries(d, before, size)
        else:
            deleted = yield from delete_old(d, kind, before, size, *extra)
        return Batch(deleted, full=deleted >= size)

    return await runtime.driver.run(transition)


def deletions(
    now: datetime, records_days: int, key_lock: timedelta
) -> list[tuple[str, Deletion, datetime, tuple[datetime, ...]]]:
    """Each kind a pass deletes, with its cutoff: expired keys always; the records only
    when `records_days` is not 0 (0 keeps them for ever)."""
    found: list[tuple[str, Deletion, datetime, tuple[datetime, ...]]] = [
        (EXPIRED_KEYS.table, EXPIRED_KEYS, now, (now - key_lock,))
    ]
    if records_days > 0:
        cutoff = now - timedelta(days=records_days)
        found.extend((kind.table, kind, cutoff, ()) for kind in RECORDS)
        found.append(("subscription_deliveries", None, cutoff, ()))
    return found


async def prune_records(
    runtime: Runtime,
    now: datetime,
    records_days: int,
    key_lock: timedelta,
    size: int,
    pause: float,
) -> dict[str, int]:
    """One pass over every kind, batch after batch; how many rows of each it deleted."""
    counts: dict[str, int] = {}
    for table, kind, before, extra in deletions(now, records_days, key_lock):
        counts[table] = 0
        while True:
            batch = await prune_records_batch(runtime, kind, before, size, *extra)
            counts[table] += batch.deleted
            if not batch.full:
                break
            await asyncio.sleep(pause)
    return counts
