"""Scenario 9: ten minutes of load (--short: 10 s, 50 sockets) from separate processes on
PostgreSQL, two API processes and two workers: run starts, reads, and WebSocket clients
on /ws/stream. Figures: starts/s, API p50/p99, event delay p99, and the resident memory
of the API processes sampled every 10 s (no growth: the last minute's mean within 20% of
the third minute's; --short only reports it, 10 s being all warm-up)."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
from typing import TYPE_CHECKING, Any

from bench.common import rss_mb

from chaos.client import Client
from chaos.figures import Figure, at_most, exactly, measured
from chaos.processes import Processes
from chaos.sqlite_kills import DEFINITION

if TYPE_CHECKING:
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "9 load"


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else float("nan")


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    # Other figures for trying the scenario out; the defaults are the long form's.
    seconds = float(os.environ.get("CHAOS_LOAD_SECONDS", "600" if long else "10"))
    sockets = os.environ.get("CHAOS_LOAD_SOCKETS", "500" if long else "25")
    every = 10 if long else 1
    url = await pg.create_database()
    procs = Processes(
        work, {"TOWPATH_DATABASE_URL": url, "TOWPATH_MAX_RUNS_IN_FLIGHT_PER_WORKFLOW": "100000"}
    )
    samples: list[float] = []
    try:
        apis = [await procs.api(f"api{i}") for i in range(2)]
        key = procs.admin_key()
        for _ in range(2):
            procs.worker()
        client = Client([b for _, b in apis], key)
        workflow_id = await client.publish("chaos load", DEFINITION)
        await client.close()
        loads = [
            procs.spawn(
                f"load-{role}",
                [
                    "-m",
                    "chaos.load_client",
                    role,
                    apis[i % 2][1],
                    key,
                    workflow_id,
                    str(seconds),
                    str(n),
                ],
            )
            for i, (role, n) in enumerate(
                [("starts", 8), ("reads", 8), ("sockets", sockets), ("sockets", sockets)]
            )
        ]
        while any(p.poll() is None for p in loads):
            samples.append(sum(rss_mb(p.pid) for p, _ in apis))
            await asyncio.sleep(every)
        found: list[dict[str, Any]] = [
            json.loads(procs.logs[p.pid].read_text().strip().splitlines()[-1]) for p in loads
        ]
    finally:
        procs.close()
        await pg.drop_database()
    starts = next(f for f in found if f["role"] == "starts")
    api_ms = [ms for f in found if f["role"] != "sockets" for ms in f["ms"]]
    delays = [ms for f in found if f["role"] == "sockets" for ms in f["ms"]]
    third = statistics.mean(samples[12:18]) if len(samples) >= 18 else samples[0]
    last = statistics.mean(samples[-6:])
    growth = last / third
    return [
        measured(NAME, "run starts/s", len(starts["ms"]) / seconds),
        measured(NAME, "API p50 (ms)", _percentile(api_ms, 50)),
        measured(NAME, "API p99 (ms)", _percentile(api_ms, 99)),
        measured(NAME, "event delay p99 (ms)", _percentile(delays, 99)),
        exactly(NAME, "requests or sockets failed", sum(int(f["errors"]) for f in found), 0),
        measured(NAME, "API RSS, third minute (MB)", third),
        at_most(NAME, "API RSS, last minute / third minute", growth, 1.2)
        if long
        else measured(NAME, "API RSS, last seconds / first second", growth),
    ]
