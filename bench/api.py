"""API benchmark: run starts and dashboard reads over HTTP, 16 connections, from wrk.

    .venv/bin/python -m bench.api [--seconds 10] [--connections 16] [--repeat 3]
        [--no-worker] [--loads start,list,...] [--profile bench/profiles/NAME]

Starts `towpath serve` on a fresh SQLite file (the embedded default, worker included
unless --no-worker) and publishes a one-step workflow. Each repetition drives with `wrk`
(Debian package `wrk`): `POST /workflows/{id}/run`, then `GET /runs` (a page of 20),
`GET /runs/{id}` and `GET /runs/{id}/steps`, and two loads that show what the HTTP stack
itself costs (`GET /api/v1/catalog/steps`: authenticated, no database; `GET /health`);
then it measures the SQLite floor (committed single-row transactions/s) on the same
disk. Medians of the repetitions are printed, in floor units, with the server's CPU time
per request: a busy machine moves that far less than requests/s. With --profile, py-spy samples the server during each load (one
repetition) and the text summaries go to NAME-<load>.txt beside the raw stacks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import pyspy
from bench.common import (
    admin_key,
    free_port,
    line,
    median,
    rss_mb,
    sqlite_floor,
    sqlite_url,
    towpath,
    wait_ready,
)

WORKFLOW = {
    "name": "api-bench",
    "definition": {
        "nodes": [{"id": "t", "type": "transform", "data": {"config": {"output": {"ok": True}}}}],
        "edges": [],
    },
}
WRK_SCRIPT = """
wrk.method = "METHOD"
wrk.headers["Authorization"] = "Bearer KEY"
"""
WRK_BODY = """
wrk.body = '{"input": {}}'
wrk.headers["Content-Type"] = "application/json"
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Load:
    rate: float
    p50_ms: float
    p99_ms: float
    failed: int
    requests: int
    cpu_ms: float = float("nan")  # the server's CPU time per request, all threads
    loop_cpu_ms: float = float("nan")  # the same, the event loop's thread only


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) of process `pid`, and of its main thread (the event loop).
    A figure per request that a busy machine changes far less than requests/s."""
    tick = os.sysconf("SC_CLK_TCK")

    def of(stat: Path) -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    return of(Path(f"/proc/{pid}/stat")), of(Path(f"/proc/{pid}/task/{pid}/stat"))


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(
    url: str, key: str, connections: int, seconds: float, *, post: bool, pid: int | None = None
) -> Load:
    script = Path(tempfile.mkdtemp()) / "load.lua"
    lua = WRK_SCRIPT.replace("KEY", key).replace("METHOD", "POST" if post else "GET")
    script.write_text(lua + (WRK_BODY if post else ""))
    before = cpu_seconds(pid) if pid else (0.0, 0.0)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = cpu_seconds(pid) if pid else (0.0, 0.0)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    load = Load(
        rate,
        _ms(p50.group(1)) if p50 else float("nan"),
        _ms(p99.group(1)) if p99 else float("nan"),
        int(failed.group(1)) if failed else 0,
        requests,
    )
    if pid and requests:
        load.cpu_ms = 1000 * (after[0] - before[0]) / requests
        load.loop_cpu_ms = 1000 * (after[1] - before[1]) / requests
    return load


def _profiled(
    profile: str | None, name: str, pid: int, seconds: float
) -> subprocess.Popen[bytes] | None:
    if profile is None:
        return None
    Path(profile).parent.mkdir(parents=True, exist_ok=True)
    return pyspy.record(pid, seconds, Path(f"{profile}-{name}.raw"))


def _summarize(profile: str | None, name: str, spy: subprocess.Popen[bytes] | None) -> None:
    if profile is None or spy is None:
        return
    spy.wait(timeout=60)
    raw = Path(f"{profile}-{name}.raw")
    if raw.exists():
        Path(f"{profile}-{name}.txt").write_text(pyspy.summary(raw))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-worker", action="store_true", help="serve the API only")
    parser.add_argument(
        "--loads",
        default="start,list,get,steps,catalog,health",
        help="which loads, in order: start, list, get, steps, catalog, health",
    )
    parser.add_argument("--profile", help="py-spy each load; summaries to PROFILE-<load>.txt")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench.api needs wrk (apt-get install wrk)")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "TOWPATH_DATABASE_URL": sqlite_url(),
        "TOWPATH_LOG_LEVEL": "warning",
        # One client address and one key drive the whole load.
        "TOWPATH_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
        "TOWPATH_RATE_LIMIT_CREDENTIAL_PER_MINUTE": "0",
    }
    if args.no_worker:
        env["TOWPATH_RUN_WORKER"] = "false"
    key = admin_key(env)
    server = towpath("serve", "--port", str(port), env=env)
    figures: dict[str, list[Load]] = {}
    floors: list[float] = []
    try:
        await wait_ready(base)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as client:
            created = (await client.post(f"{base}/api/v1/workflows", json=WORKFLOW)).json()
            await client.post(f"{base}/api/v1/workflows/{created['id']}/publish")
            start_url = f"{base}/api/v1/workflows/{created['id']}/run"
            wrk(start_url, key, 4, 1, post=True)  # warm up
            run_id = (await client.get(f"{base}/api/v1/runs?per_page=1")).json()[0]["id"]
        every = [
            ("POST /workflows/{id}/run", "start", start_url, True),
            ("GET /runs (page of 20)", "list", f"{base}/api/v1/runs?per_page=20", False),
            ("GET /runs/{id}", "get", f"{base}/api/v1/runs/{run_id}", False),
            ("GET /runs/{id}/steps", "steps", f"{base}/api/v1/runs/{run_id}/steps", False),
            # What the HTTP stack costs without the database: authenticated, and not.
            ("GET /catalog/steps (no database)", "catalog", f"{base}/api/v1/catalog/steps", False),
            ("GET /health (no credential)", "health", f"{base}/health", False),
        ]
        chosen = args.loads.split(",")
        loads = [load for load in every if load[1] in chosen]
        for _ in range(1 if args.profile else args.repeat):
            for title, name, url, post in loads:
                spy = _profiled(args.profile, name, server.pid, args.seconds)
                load = wrk(url, key, args.connections, args.seconds, post=post, pid=server.pid)
                figures.setdefault(title, []).append(load)
                _summarize(args.profile, name, spy)
            floors.append(sqlite_floor())
        memory = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    floor = median(floors)
    worker = "API only" if args.no_worker else "worker running"
    runs = len(floors)
    print(f"SQLite (FULL), {args.connections} connections, {worker}; median of {runs} run(s)")
    if args.profile:
        print("  (under py-spy: slower than without)")
    floor_note = ", ".join(f"{f:,.0f}" for f in floors)
    line("floor: committed single-row SQLite transactions/s", f"{floor:,.0f}", floor_note)
    for title, found in figures.items():
        rate = median([load.rate for load in found])
        each = ", ".join(f"{load.rate:,.0f}" for load in found)
        line(f"{title}: requests/s", f"{rate:,.0f}", f"= {rate / floor:.2f} of floor ({each})")
        p50 = median([load.p50_ms for load in found])
        p99 = median([load.p99_ms for load in found])
        failed = sum(load.failed for load in found)
        note = f"{failed} non-2xx" if failed else ""
        line(f"{title}: p50 / p99", f"{p50:.1f} / {p99:.1f} ms", note)
        cpu = median([load.cpu_ms for load in found])
        loop = median([load.loop_cpu_ms for load in found])
        line(f"{title}: server CPU / request", f"{cpu:.2f} ms", f"event loop {loop:.2f} ms")
    line("server resident memory after the load", f"{memory:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
