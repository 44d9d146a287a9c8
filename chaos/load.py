"""Scenario 9: ten minutes of load (--short: 10 s) from separate processes on PostgreSQL,
two API processes and two workers: run starts and reads as fast as 8 connections each
go; 1,000 clients (--short: 50) that each start a run lasting a minute and follow it over
/ws/runs/{id} to its end, then the next; and 10 dashboards (--short: 2) on /ws/stream,
every event of the workspace. Figures: starts/s, API p50/p99, event delay p99 of each
kind of stream, and the resident memory of the API processes sampled every 10 s (no
growth: the last minute's mean within 20% of the third minute's; --short only reports
it, 10 s being all warm-up). A 503 or a 1013 (the server shedding load) is sent again
and counted apart; any other error fails the scenario."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
from collections import Counter
from typing import TYPE_CHECKING, Any

from bench.common import rss_mb

from chaos.client import Client
from chaos.figures import Figure, at_most, exactly, measured, note
from chaos.processes import Processes
from chaos.sqlite_kills import DEFINITION


def watched(seconds: float) -> dict[str, Any]:
    """A run its starter follows to its end, about `seconds` long (its delay)."""
    return {
        "nodes": [
            {"id": "a", "type": "transform", "data": {"config": {"output": {"x": 1}}}},
            {"id": "d", "type": "delay", "data": {"config": {"seconds": seconds}}},
            {"id": "b", "type": "transform", "data": {"config": {"output": {"y": "{{ a.x }}"}}}},
        ],
        "edges": [
            {"id": "e1", "source": "a", "target": "d"},
            {"id": "e2", "source": "d", "target": "b"},
        ],
    }


if TYPE_CHECKING:
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "9 load"
# One Python process reading more sockets than this measures itself more than the server.
SOCKETS_PER_PROCESS = 250


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else float("nan")


def _delays(found: list[dict[str, Any]], role: str) -> Counter[int]:
    delays: Counter[int] = Counter()
    for f in found:
        if f["role"] == role:
            delays.update({int(ms): n for ms, n in f["delays"].items()})
    return delays


def _percentile_of(delays: Counter[int]) -> float:
    return _counted_percentile(delays, 99)


def _counted_percentile(counts: Counter[int], q: float) -> float:
    """The q-th percentile of values given as {value: how many}."""
    total = sum(counts.values())
    if not total:
        return float("nan")
    rank, seen = total * q / 100, 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return max(counts)


def shares(sockets: int) -> list[int]:
    """The sockets spread over processes of at most SOCKETS_PER_PROCESS each."""
    processes = max(1, -(-sockets // SOCKETS_PER_PROCESS))
    return [sockets // processes + (i < sockets % processes) for i in range(processes)]


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    # Other figures for trying the scenario out; the defaults are the long form's.
    seconds = float(os.environ.get("CHAOS_LOAD_SECONDS", "600" if long else "10"))
    sockets = int(os.environ.get("CHAOS_LOAD_SOCKETS", "1000" if long else "50"))
    dashboards = int(os.environ.get("CHAOS_LOAD_DASHBOARDS", "10" if long else "2"))
    # A watched run lasts a minute (a tenth of the load in a shorter one): a thousand
    # sockets open at once, a few new ones a second.
    run_seconds = min(60.0, seconds / 10)
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
        watched_id = await client.publish("chaos load, watched", watched(run_seconds))
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
                    watched_id if role == "watchers" else workflow_id,
                    str(seconds),
                    str(n),
                    str(run_seconds),
                ],
            )
            for i, (role, n) in enumerate(
                [
                    ("starts", 8),
                    ("reads", 8),
                    ("sockets", dashboards),
                    *[("watchers", share) for share in shares(sockets)],
                ]
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
    api_ms = [ms for f in found if f["role"] in ("starts", "reads") for ms in f["ms"]]
    delays = {role: _delays(found, role) for role in ("watchers", "sockets")}
    messages = {role: sum(f["messages"] for f in found if f["role"] == role) for role in delays}
    followed = sum(f["watched"] for f in found if f["role"] == "watchers")
    shed = sum(f["shed"] for f in found)
    failures: Counter[str] = Counter()
    for f in found:
        failures.update({f"{f['role']}: {kind}": n for kind, n in f["errors"].items()})
    for kind, n in failures.most_common(10):
        note(f"load: {n} failed with {kind}")
    third = statistics.mean(samples[12:18]) if len(samples) >= 18 else samples[0]
    last = statistics.mean(samples[-6:])
    growth = last / third
    return [
        measured(NAME, "run starts/s", len(starts["ms"]) / seconds),
        measured(NAME, "API p50 (ms)", _percentile(api_ms, 50)),
        measured(NAME, "API p99 (ms)", _percentile(api_ms, 99)),
        measured(NAME, "runs followed to their end", followed),
        measured(NAME, "run streams: messages", messages["watchers"]),
        measured(NAME, "run streams: event delay p99 (ms)", _percentile_of(delays["watchers"])),
        measured(NAME, "workspace streams: messages", messages["sockets"]),
        measured(
            NAME, "workspace streams: event delay p99 (ms)", _percentile_of(delays["sockets"])
        ),
        exactly(NAME, "requests or sockets failed", sum(failures.values()), 0),
        measured(NAME, "503s and 1013s (server busy), sent again", shed),
        measured(NAME, "API RSS, third minute (MB)", third),
        at_most(NAME, "API RSS, last minute / third minute", growth, 1.2)
        if long
        else measured(NAME, "API RSS, last seconds / first second", growth),
    ]
