"""Steps that call out: what the engine adds to an `http_request` step, beside the floor
and beside DBOS doing the same calls.

    .venv/bin/python -m bench.http_steps [--postgres URL] [--skip-postgres] [--skip-dbos]
        [--runs 30] [--total 1000] [--repeat 3]

A no-op HTTP server (`bench.noop_http`) runs in another process. Figures, each printed
beside the floor measured in the same run (committed single-row transactions per second,
as in `bench.engine`):

- engine time per step beyond the call: runs of 10 `http_request` steps one after
  another; a step's time is the distance between consecutive steps' `started_at` (the
  call, recording its result, leasing the next step), less the median round trip of the
  same call from a plain httpx.AsyncClient in this process, measured around the runs.
  Also the wall time of a whole run (start to completion, / 10) less the round trip: the
  figure compared with DBOS, whose workflows are timed the same way.
- steps/s with 200 runs of 10 such steps in flight: on SQLite in this process, on
  PostgreSQL with 2 `towpath worker` processes.
- DBOS (3.x) running a workflow of 10 steps, each making the same call, on SQLite (WAL,
  synchronous=FULL, as towpath) and PostgreSQL. DBOS is not a towpath dependency: the
  first run makes a virtual environment for it, `bench/.dbos-venv` (git-ignored), with
  `python -m venv bench/.dbos-venv && bench/.dbos-venv/bin/pip install 'dbos>=3,<4'
  httpx`, and runs `bench/dbos_http.py` there as a subprocess. `--skip-dbos` leaves it out.

Each figure is the median of `--repeat` repetitions (the machines here are noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.common import (
    DEFAULT_POSTGRES,
    ROOT,
    drop_postgres,
    free_port,
    fresh_postgres,
    line,
    median,
    migrate,
    postgres_floor,
    sqlite_floor,
    sqlite_url,
)
from bench.engine import Completions, publish, start, throughput_in_process, throughput_workers
from towpath.config import Settings
from towpath.engine.runner import engine_running
from towpath.steps.catalog import default_registry
from towpath.storage.database import Database
from towpath.storage.models import StepRun

STEPS = 10
DBOS_VENV = ROOT / "bench" / ".dbos-venv"


def http_chain(url: str, steps: int = STEPS) -> dict[str, Any]:
    nodes = [
        {"id": f"s{i}", "type": "http_request", "data": {"label": f"s{i}", "config": {"url": url}}}
        for i in range(steps)
    ]
    edges = [{"id": f"e{i}", "source": f"s{i}", "target": f"s{i + 1}"} for i in range(steps - 1)]
    return {"nodes": nodes, "edges": edges}


class NoOpServer:
    """`bench.noop_http` in a process of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._process: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> NoOpServer:
        self._process = subprocess.Popen(  # noqa: ASYNC220 - started once, before timing
            [sys.executable, "-m", "bench.noop_http", str(self.port)], cwd=ROOT
        )
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    await client.get(self.url)
                    return self
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise RuntimeError("the no-op HTTP server did not start")

    async def __aexit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)


async def round_trip_ms(url: str, calls: int = 200) -> list[float]:
    """The call a step makes, from a plain httpx.AsyncClient, kept alive: ms each."""
    took = []
    async with httpx.AsyncClient() as client:
        await client.get(url)
        for _ in range(calls):
            began = time.perf_counter()
            await client.get(url)
            took.append((time.perf_counter() - began) * 1000)
    return took


def _settings(url: str, server: NoOpServer, **more: Any) -> Settings:
    return Settings(database_url=url, step_allowed_hosts=[f"127.0.0.1:{server.port}"], **more)


async def per_step(url: str, server: NoOpServer, runs: int) -> tuple[float, float, float]:
    """Runs one after another: (ms per step from started_at, ms per step of the whole
    run, the call's round trip in ms), medians."""
    await migrate(url)
    db = Database(url)
    caller = await publish(db, http_chain(server.url))
    trips = await round_trip_ms(server.url)
    cycles, walls, run_ids = [], [], []
    async with engine_running(
        db, default_registry(), _settings(url, server), with_worker=True
    ) as rt:
        completions = Completions(rt)
        for n in range(runs + 3):
            began = time.perf_counter()
            run_id = await start(rt, caller)
            await completions.wait(run_id)
            if n >= 3:  # the first runs warm caches up
                walls.append((time.perf_counter() - began) * 1000 / STEPS)
                run_ids.append(run_id)
    trips += await round_trip_ms(server.url)
    async with db.read() as session:
        for run_id in run_ids:
            started = sorted(
                at
                for at in await session.scalars(
                    select(StepRun.started_at).where(StepRun.run_id == run_id)
                )
                if at is not None
            )
            cycles.append((started[-1] - started[0]).total_seconds() * 1000 / (STEPS - 1))
    await db.dispose()
    return median(cycles), median(walls), median(trips)


def dbos_python() -> Path:
    python = DBOS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DBOS_VENV)], check=True)
        pip = [str(DBOS_VENV / "bin" / "pip"), "install", "-q", "dbos>=3,<4", "httpx"]
        subprocess.run(pip, check=True)
    return python


def dbos_per_step(server: NoOpServer, database_url: str, runs: int) -> tuple[float, float]:
    """DBOS: (ms per step of a whole workflow, the call's round trip in ms)."""
    script = ROOT / "bench" / "dbos_http.py"
    done = subprocess.run(
        [str(dbos_python()), str(script), server.url, database_url, str(runs)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return float(found["per_step_ms"]), float(found["rtt_ms"])


def _dbos_postgres(base: str) -> str:
    name = f"towpath_bench_dbos_{int(time.time() * 1000) % 10**9}"
    return base.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0] + f"/{name}"


def _repeat(n: int, measure: Any) -> list[Any]:
    return [measure() for _ in range(n)]


async def _per_step_figures(
    label: str, urls: Any, server: NoOpServer, args: argparse.Namespace, floor_ms: float
) -> float:
    found = []
    for _ in range(args.repeat):
        url, cleanup = await urls()
        try:
            found.append(await per_step(url, server, args.runs))
        finally:
            await cleanup()
    cycle = median([f[0] - f[2] for f in found])
    wall = median([f[1] - f[2] for f in found])
    trip = median([f[2] for f in found])
    line(f"{label} the call's round trip (plain httpx)", f"{trip:.3f} ms")
    line(
        f"{label} engine time per http_request step",
        f"{cycle:.3f} ms",
        f"= {cycle / floor_ms:.1f} floor txns ({[round(f[0] - f[2], 3) for f in found]})",
    )
    line(f"{label} same, whole run / 10 (as DBOS is timed)", f"{wall:.3f} ms")
    return wall


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-dbos", action="store_true")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--total", type=int, default=1000, help="runs for the steps/s figures")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    async with NoOpServer() as server:
        print("SQLite (WAL, synchronous=FULL)")
        floor = median([sqlite_floor() for _ in range(args.repeat)])
        floor_ms = 1000 / floor
        line("floor: committed single-row transactions/s", f"{floor:,.0f}", f"({floor_ms:.3f} ms)")

        async def sqlite_db() -> tuple[str, Any]:
            async def nothing() -> None:
                return None

            return sqlite_url(), nothing

        wall = await _per_step_figures("", sqlite_db, server, args, floor_ms)
        rates = [
            await throughput_in_process(
                sqlite_url(), args.total, 200, http_chain(server.url), [f"127.0.0.1:{server.port}"]
            )
            for _ in range(args.repeat)
        ]
        rate = median(rates)
        line(
            "steps/s, 200 runs of 10 http steps in flight",
            f"{rate:,.0f}",
            f"= {rate / floor:.2f} of floor ({[round(r) for r in rates]})",
        )
        if not args.skip_dbos:
            found = []
            for _ in range(args.repeat):
                path = Path(tempfile.mkdtemp(prefix="towpath-dbos-")) / "dbos.sqlite"
                found.append(dbos_per_step(server, f"sqlite:///{path}", args.runs))
            dbos = median([f[0] - f[1] for f in found])
            line(
                "DBOS: time per step beyond the call, whole workflow / 10",
                f"{dbos:.3f} ms",
                f"= {dbos / floor_ms:.1f} floor txns; DBOS / towpath = {dbos / wall:.1f}",
            )

        if args.skip_postgres:
            return
        print("PostgreSQL (local)")
        pfloor = median([await postgres_floor(args.postgres) for _ in range(args.repeat)])
        pfloor_ms = 1000 / pfloor
        line(
            "floor: committed single-row transactions/s", f"{pfloor:,.0f}", f"({pfloor_ms:.3f} ms)"
        )

        async def postgres_db() -> tuple[str, Any]:
            url = await fresh_postgres(args.postgres)

            async def drop() -> None:
                await drop_postgres(args.postgres, url)

            return url, drop

        pwall = await _per_step_figures("", postgres_db, server, args, pfloor_ms)
        prates = []
        for _ in range(args.repeat):
            url = await fresh_postgres(args.postgres)
            try:
                prates.append(
                    await throughput_workers(
                        url,
                        2,
                        args.total,
                        200,
                        http_chain(server.url),
                        [f"127.0.0.1:{server.port}"],
                    )
                )
            finally:
                await drop_postgres(args.postgres, url)
        prate = median(prates)
        line(
            "steps/s, 200 runs in flight, 2 `towpath worker`s",
            f"{prate:,.0f}",
            f"= {prate / pfloor:.2f} of floor ({[round(r) for r in prates]})",
        )
        if not args.skip_dbos:
            found = []
            for _ in range(args.repeat):
                dbos_url = _dbos_postgres(args.postgres)
                try:
                    found.append(dbos_per_step(server, dbos_url, args.runs))
                finally:
                    await drop_postgres(args.postgres, dbos_url.replace("://", "+asyncpg://", 1))
            dbos = median([f[0] - f[1] for f in found])
            line(
                "DBOS: time per step beyond the call, whole workflow / 10",
                f"{dbos:.3f} ms",
                f"= {dbos / pfloor_ms:.1f} floor txns; DBOS / towpath = {dbos / pwall:.1f}",
            )


if __name__ == "__main__":
    asyncio.run(main())
