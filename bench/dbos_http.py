"""The DBOS side of `bench.http_steps`, run in its own virtual environment (DBOS is not a
dependency of towpath): a workflow of 10 steps, each making the same HTTP call.

    bench/.dbos-venv/bin/python bench/dbos_http.py URL DATABASE_URL RUNS

Prints one JSON line: the median milliseconds per step of a workflow (start to result,
divided by 10) and the median round trip of the same call from a plain httpx.AsyncClient,
measured in the same process around the workflows.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import sys
import time

import httpx
from dbos import DBOS, DBOSConfig

STEPS = 10


async def main(url: str, database_url: str, runs: int) -> None:
    if database_url.startswith("sqlite:///"):
        # WAL, as towpath runs SQLite; journal_mode is kept in the file, synchronous is
        # SQLite's default, FULL.
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
    config: DBOSConfig = {"name": "bench-http", "system_database_url": database_url}
    DBOS(config=config)
    client = httpx.AsyncClient()

    @DBOS.step()
    async def call() -> int:
        return (await client.get(url)).status_code

    @DBOS.workflow()
    async def chain() -> int:
        total = 0
        for _ in range(STEPS):
            total += await call()
        return total

    DBOS.launch()
    plain = httpx.AsyncClient()

    async def round_trips(n: int) -> list[float]:
        took = []
        for _ in range(n):
            began = time.perf_counter()
            await plain.get(url)
            took.append((time.perf_counter() - began) * 1000)
        return took

    trips = await round_trips(200)
    per_step = []
    for n in range(runs + 3):
        began = time.perf_counter()
        handle = await DBOS.start_workflow_async(chain)
        await handle.get_result()
        if n >= 3:  # the first warm caches up
            per_step.append((time.perf_counter() - began) * 1000 / STEPS)
    trips += await round_trips(200)
    print(
        json.dumps({"per_step_ms": statistics.median(per_step), "rtt_ms": statistics.median(trips)})
    )
    await client.aclose()
    await plain.aclose()
    DBOS.destroy()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
