"""API benchmark: `POST /api/v1/workflows/{id}/run`, 16 connections, from another process.

    .venv/bin/python -m bench.api [--seconds 10] [--connections 16] [--no-worker]

Starts `towpath serve` on a fresh SQLite file (the embedded default, worker included
unless --no-worker), publishes a one-step workflow and drives run starts with `wrk`
(Debian package `wrk`). Without wrk it falls back to an httpx load process, which on a
small machine is itself the bottleneck: trust the wrk figure.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import (
    admin_key,
    free_port,
    line,
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
wrk.method = "POST"
wrk.body = '{"input": {}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer KEY"
"""


def _wrk(url: str, key: str, connections: int, seconds: float) -> tuple[float, str]:
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(WRK_SCRIPT.replace("KEY", key))
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    latency = f"{p50.group(1) if p50 else '?'} / {p99.group(1) if p99 else '?'}"
    if errors:
        latency += f"; {errors.group(1)} non-2xx"
    return rate, latency


async def _httpx(url: str, key: str, connections: int, seconds: float) -> tuple[float, str]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    done = 0
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                if (await client.post(url, json={"input": {}})).status_code == 201:
                    done += 1

        await asyncio.gather(*(loop() for _ in range(connections)))
    return done / seconds, "n/a (httpx load)"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-worker", action="store_true", help="serve the API only")
    args = parser.parse_args()

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
    try:
        await wait_ready(base)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as client:
            created = (await client.post(f"{base}/api/v1/workflows", json=WORKFLOW)).json()
            await client.post(f"{base}/api/v1/workflows/{created['id']}/publish")
        url = f"{base}/api/v1/workflows/{created['id']}/run"
        if shutil.which("wrk"):
            _wrk(url, key, 4, 1)  # warm up
            rate, latency = _wrk(url, key, args.connections, args.seconds)
        else:
            rate, latency = await _httpx(url, key, args.connections, args.seconds)
        memory = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    floor = sqlite_floor()
    worker = "API only" if args.no_worker else "worker running"
    print(f"POST /workflows/{{id}}/run on SQLite (FULL), {args.connections} connections, {worker}")
    line("floor: committed single-row SQLite transactions/s", f"{floor:,.0f}")
    line("run starts/s", f"{rate:,.0f}", f"= {rate / floor:.2f} of floor; target 1,000")
    line("latency p50 / p99", latency)
    line("server resident memory after the load", f"{memory:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
