"""Run starts over HTTP with N API processes on one PostgreSQL database.

    .venv/bin/python -m bench.api_processes [--processes 1,2,4] [--seconds 6] [--repeat 3]
        [--connections 16] [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]

For each N, starts N `towpath serve` processes (each with its worker, so a start of the
one-`transform` workflow runs whole in its request's transaction, as on SQLite) on a fresh
database beside `--postgres`, and drives `POST /workflows/{id}/run` from one `wrk` per
process, the connections shared among them. Prints starts/s (the sum), the median of the
processes' p50 and p99, the CPU time all the processes spent per start, and PostgreSQL's
floor (committed single-row transactions/s) measured in the same run. Needs `wrk` (Debian
package `wrk`)."""

from __future__ import annotations

import argparse
import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx

from bench.api import WORKFLOW, Load, cpu_seconds, wrk
from bench.common import (
    admin_key,
    drop_postgres,
    free_port,
    fresh_postgres,
    line,
    median,
    postgres_floor,
    towpath,
    wait_ready,
)

if TYPE_CHECKING:
    import subprocess

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _publish(base: str, key: str) -> str:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as client:
        created = (await client.post(f"{base}/api/v1/workflows", json=WORKFLOW)).json()
        await client.post(f"{base}/api/v1/workflows/{created['id']}/publish")
        return str(created["id"])


def _drive(
    urls: list[str], key: str, connections: int, seconds: float, pids: list[int]
) -> tuple[list[Load], float]:
    """One wrk per process at once; the CPU all the processes spent."""
    before = sum(cpu_seconds(pid)[0] for pid in pids)
    # wrk runs two threads: at least a connection each.
    each = max(2, connections // len(urls))
    with ThreadPoolExecutor(len(urls)) as pool:
        loads = list(pool.map(lambda url: wrk(url, key, each, seconds, post=True), urls))
    after = sum(cpu_seconds(pid)[0] for pid in pids)
    return loads, after - before


async def _measure(
    url: str, key: str, count: int, args: argparse.Namespace
) -> list[tuple[float, float, float, float]]:
    """(starts/s, p50, p99, CPU ms per start) of each repetition with `count` processes."""
    env = {
        "TOWPATH_DATABASE_URL": url,
        "TOWPATH_LOG_LEVEL": "warning",
        "TOWPATH_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
        "TOWPATH_RATE_LIMIT_CREDENTIAL_PER_MINUTE": "0",
    }
    ports = [free_port() for _ in range(count)]
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            # One at a time: the first applies the migrations the others find done.
            servers.append(towpath("serve", "--port", str(port), env=env))
            await wait_ready(f"http://127.0.0.1:{port}", seconds=60)
        workflow_id = await _publish(f"http://127.0.0.1:{ports[0]}", key)
        urls = [f"http://127.0.0.1:{port}/api/v1/workflows/{workflow_id}/run" for port in ports]
        pids = [server.pid for server in servers]
        _drive(urls, key, count, 1, pids)  # warm up
        found = []
        for _ in range(args.repeat):
            loads, cpu = await asyncio.to_thread(
                _drive, urls, key, args.connections, args.seconds, pids
            )
            requests = sum(load.requests for load in loads)
            found.append(
                (
                    sum(load.rate for load in loads),
                    median([load.p50_ms for load in loads]),
                    median([load.p99_ms for load in loads]),
                    1000 * cpu / requests if requests else float("nan"),
                )
            )
        return found
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench.api_processes needs wrk (apt-get install wrk)")

    counts = [int(n) for n in args.processes.split(",")]
    url = await fresh_postgres(args.postgres)
    try:
        key = admin_key({"TOWPATH_DATABASE_URL": url})
        figures = {count: await _measure(url, key, count, args) for count in counts}
        floor = await postgres_floor(url)
    finally:
        await drop_postgres(args.postgres, url)

    print(
        f"PostgreSQL, {args.connections} connections over N API processes (each with its "
        f"worker); median of {args.repeat} run(s)"
    )
    line("floor: committed single-row PostgreSQL transactions/s", f"{floor:,.0f}")
    for count, found in figures.items():
        rate = median([f[0] for f in found])
        each = ", ".join(f"{f[0]:,.0f}" for f in found)
        line(
            f"{count} process(es): starts/s",
            f"{rate:,.0f}",
            f"= {rate / floor:.2f} of floor ({each})",
        )
        p50, p99 = median([f[1] for f in found]), median([f[2] for f in found])
        line(f"{count} process(es): p50 / p99", f"{p50:.1f} / {p99:.1f} ms")
        line(
            f"{count} process(es): CPU / start, all processes",
            f"{median([f[3] for f in found]):.2f} ms",
        )


if __name__ == "__main__":
    asyncio.run(main())
