"""Each query the pruner finds old records with reads an index on their age, not the
whole table: on a table of millions of rows a batch stays cheap."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from towpath.domain.clock import utcnow
from towpath.engine.record_pruning import (
    EXPIRED_KEYS,
    RECORDS,
    RecordKind,
    old_deliveries,
    oldest,
)
from towpath.engine.sql import execute, fetch

if TYPE_CHECKING:
    from fastapi import FastAPI

    from towpath.engine.sql import Gen


@pytest.mark.parametrize(
    "kind", [*RECORDS, EXPIRED_KEYS, None], ids=lambda k: getattr(k, "table", "deliveries")
)
async def test_old_records_are_found_through_an_index(
    app: FastAPI, kind: RecordKind | None
) -> None:
    runtime = app.state.runtime
    d = runtime.driver.dialect
    now = utcnow()
    query = old_deliveries(d) if kind is None else oldest(d, kind)
    times = [now] if kind is None or kind is not EXPIRED_KEYS else [now, now - timedelta(minutes=1)]

    def plan() -> Gen[str]:
        if d.is_postgres:
            # Empty tables: without this, the planner rightly prefers reading them whole.
            yield from execute("SET LOCAL enable_seqscan = off")
        explain = "EXPLAIN " if d.is_postgres else "EXPLAIN QUERY PLAN "
        rows = yield from fetch(explain + query, *(d.time(t) for t in times), 10)
        return "\n".join(str(row[-1]) for row in rows)

    found = await runtime.driver.run(plan)

    table, age = (
        ("subscription_deliveries", "finished_at") if kind is None else (kind.table, kind.age)
    )
    assert f"ix_{table}_{age}" in found, found
    assert "Seq Scan" not in found, found
