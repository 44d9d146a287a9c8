"""API benchmark: `POST /api/v1/workflows/{id}/run` from separate processes, 16 connections.

    .venv/bin/python -m bench.api [--seconds 10] [--connections 16] [--procs 2]

Starts `towpath serve` on a fresh SQLite file (the embedded default, worker included),
publishes a one-step workflow, then drives run starts and prints starts per second.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time

import httpx

from bench.common import free_port, line, rss_mb, sqlite_floor, sqlite_url, towpath, wait_ready

WORKFLOW = {
    "name": "api-bench",
    "definition": {
        "nodes": [{"id": "t", "type": "transform", "data": {"config": {"output": {"ok": True}}}}],
        "edges": [],
    },
}


async def _drive(base: str, workflow_id: str, connections: int, seconds: float) -> list[float]:
    """Latencies (ms) of every run start that got its 201."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    url = f"{base}/api/v1/workflows/{workflow_id}/run"
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                response = await client.post(url, json={"input": {}})
                if response.status_code == 201:
                    latencies.append((time.perf_counter() - began) * 1000)

        await asyncio.gather(*(loop() for _ in range(connections)))
    return latencies


def _process(base: str, workflow_id: str, connections: int, seconds: float, out: object) -> None:
    result = asyncio.run(_drive(base, workflow_id, connections, seconds))
    out.put(result)  # type: ignore[attr-defined]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--procs", type=int, default=2, help="load processes sharing the connections"
    )
    parser.add_argument("--no-worker", action="store_true", help="serve the API only")
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"TOWPATH_DATABASE_URL": sqlite_url(), "TOWPATH_LOG_LEVEL": "warning"}
    if args.no_worker:
        env["TOWPATH_RUN_WORKER"] = "false"
    server = towpath("serve", "--port", str(port), env=env)
    try:
        await wait_ready(base)
        async with httpx.AsyncClient() as client:
            created = (await client.post(f"{base}/api/v1/workflows", json=WORKFLOW)).json()
            await client.post(f"{base}/api/v1/workflows/{created['id']}/publish")
        await _drive(base, created["id"], 4, 1.0)  # warm up

        queue: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
        per_proc = max(args.connections // args.procs, 1)
        procs = [
            multiprocessing.Process(
                target=_process, args=(base, created["id"], per_proc, args.seconds, queue)
            )
            for _ in range(args.procs)
        ]
        for proc in procs:
            proc.start()
        latencies = [ms for _ in procs for ms in queue.get()]
        for proc in procs:
            proc.join()
        memory = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    floor = sqlite_floor()
    rate = len(latencies) / args.seconds
    print(
        f"POST /workflows/{{id}}/run, {args.connections} connections, {args.procs} load processes"
    )
    line("floor: committed single-row SQLite transactions/s", f"{floor:,.0f}")
    line(
        "run starts/s (each a 201)", f"{rate:,.0f}", f"= {rate / floor:.2f} of floor; target 1,000"
    )
    line(
        "latency p50 / p99",
        f"{statistics.median(latencies):.1f} / {statistics.quantiles(latencies, n=100)[98]:.1f} ms",
    )
    line("server resident memory after the load", f"{memory:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
