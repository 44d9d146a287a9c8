"""Scenario 6: three scheduler processes, each with an injected clock, passing over the
same minutes of an every-minute schedule: each tick must start exactly one run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy.engine import make_url

from chaos.client import Client
from chaos.figures import Figure, exactly, measured
from chaos.processes import Processes
from chaos.sqlite_kills import DEFINITION

if TYPE_CHECKING:
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "6 schedules"
START = datetime(2030, 1, 1, tzinfo=UTC)


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    ticks = 1000 if long else 60
    url = await pg.create_database()
    procs = Processes(work, {"TOWPATH_DATABASE_URL": url})
    try:
        _, base = await procs.api()
        client = Client([base], procs.admin_key())
        workflow_id = await client.publish("chaos schedules", DEFINITION)
        made = await client.request(
            "POST",
            "/schedules",
            json={
                "name": "every minute",
                "workflow_id": workflow_id,
                "spec": {"intervals": [{"every_seconds": 60}], "start_at": START.isoformat()},
                "overlap": "allow_all",
                "catchup_window_seconds": 3600,
            },
        )
        made.raise_for_status()
        schedule_id = made.json()["id"]
        await client.close()
        schedulers = [
            procs.spawn(
                "scheduler", ["-m", "chaos.scheduler_process", url, START.isoformat(), str(ticks)]
            )
            for _ in range(3)
        ]
        codes = await asyncio.gather(*(asyncio.to_thread(s.wait) for s in schedulers))
        conn = await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(False)
        )
        try:
            rows = await conn.fetch(
                "SELECT scheduled_at, count(*) AS n FROM runs"
                " WHERE trigger_type = 'schedule' AND trigger_id = $1 GROUP BY scheduled_at",
                schedule_id,
            )
        finally:
            await conn.close()
    finally:
        procs.close()
        await pg.drop_database()
    expected = {START + timedelta(minutes=i) for i in range(ticks)}
    fired = {row["scheduled_at"] for row in rows}
    return [
        measured(NAME, "scheduler processes x ticks", 3 * ticks),
        exactly(NAME, "scheduler processes failed", sum(code != 0 for code in codes), 0),
        exactly(NAME, "duplicate fires", sum(row["n"] - 1 for row in rows), 0),
        exactly(NAME, "missed fires", len(expected - fired), 0),
        exactly(NAME, "fires off the schedule", len(fired - expected), 0),
    ]
