"""Live events benchmark: the delay from an event's commit to its arrival at 1, 100 and
1,000 WebSocket clients watching one run, and the server's memory.

    .venv/bin/python -m bench.events [--postgres [URL]] [--worker-process] [--clients 1,100,1000]
    .venv/bin/python -m bench.events --postgres --servers 4 --clients 10000

Starts `towpath serve` (worker included) on a fresh SQLite file, or on a fresh PostgreSQL
database with --postgres. Each round starts a run of a chain of approval steps, connects
the clients to `/ws/runs/{id}` from separate processes (250 sockets each at most: one
Python process reading 1,000 sockets would measure itself), then answers one approval
every `--interval` seconds. Each answer commits two transitions of about four events
each: the answer, then the next step's start and wait. A client records, for every event,
its arrival time minus the event's `timestamp`, which the committing transaction set (the
same machine's clock). The server's resident memory is sampled during the round. With
`--servers N` on PostgreSQL, N API processes share the database and the sockets. After
each round, the same clients watch a bare server (`bench.fanout_floor`) write bursts of
the same shape: the floor the round's delay is read against.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import gc
import json
import math
import os
import statistics
import sys
import time
from datetime import datetime
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.common import (
    DEFAULT_POSTGRES,
    admin_key,
    drop_postgres,
    free_port,
    fresh_postgres,
    line,
    rss_mb,
    sqlite_url,
    towpath,
    wait_ready,
)

PER_PROCESS = 250


def gates(count: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": f"g{i}", "type": "approval", "data": {"config": {"message": f"gate {i}"}}}
        for i in range(count)
    ]
    nodes.append({"id": "end", "type": "transform", "data": {"config": {"output": {}}}})
    ids = [node["id"] for node in nodes]
    edges = [{"id": f"e{i}", "source": a, "target": b} for i, (a, b) in enumerate(pairwise(ids))]
    return {"name": "events-bench", "definition": {"nodes": nodes, "edges": edges}}


# --- a client process ------------------------------------------------------------------


class Watcher(asyncio.Protocol):
    """A minimal WebSocket reader: it notes when each message arrived and decodes the
    messages after the run, so what is timed is the server, not this client."""

    def __init__(self, path: str, host: str, done: asyncio.Future[None]) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.done = done
        self.snapshot = asyncio.get_running_loop().create_future()
        self.buffer = b""
        self.upgraded = False
        self.arrivals: list[tuple[float, bytes]] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            head, found, rest = self.buffer.partition(b"\r\n\r\n")
            if not found:
                return
            assert head.startswith(b"HTTP/1.1 101"), head
            self.upgraded, self.buffer = True, rest
        while len(self.buffer) >= 2:
            size, start = self.buffer[1] & 0x7F, 2
            if size == 126:
                size, start = int.from_bytes(self.buffer[2:4]), 4
            elif size == 127:
                size, start = int.from_bytes(self.buffer[2:10]), 10
            if len(self.buffer) < start + size:
                return
            opcode, payload = self.buffer[0] & 0x0F, self.buffer[start : start + size]
            self.buffer = self.buffer[start + size :]
            if opcode == 1:
                self.arrivals.append((now, payload))
                if not self.snapshot.done():
                    self.snapshot.set_result(None)
            elif opcode == 9:
                self._send(0xA, payload)
            elif opcode == 8:
                self._send(0x8, payload[:2])

    def _send(self, opcode: int, payload: bytes) -> None:
        # What a client sends is masked; a zero mask leaves it as it is.
        assert self.transport is not None
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def delays(self) -> list[float]:
        found = []
        for arrived, payload in self.arrivals:
            message = json.loads(payload)
            if message["type"] == "event":
                sent = datetime.fromisoformat(message["timestamp"]).timestamp()
                found.append((arrived - sent) * 1000)
        return found


async def watch(url: str, sockets: int) -> None:
    """Opens `sockets` sockets, says `ready` once each has its snapshot, then prints the
    delays (ms) of every event each received until the run ended."""
    # A measuring client must not pause to collect garbage in the middle of a burst:
    # what it times would be its own pause.
    gc.disable()
    parsed = urlsplit(url)
    host, port = parsed.hostname, parsed.port
    assert host is not None and port is not None, url
    loop = asyncio.get_running_loop()
    watchers = []
    for _ in range(sockets):
        done: asyncio.Future[None] = loop.create_future()
        _, watcher = await loop.create_connection(
            functools.partial(Watcher, f"{parsed.path}?{parsed.query}", parsed.netloc, done),
            host,
            port,
        )
        watchers.append(watcher)
    for watcher in watchers:
        await watcher.snapshot
    print("ready", flush=True)
    await asyncio.gather(*(watcher.done for watcher in watchers))
    print(json.dumps([delay for watcher in watchers for delay in watcher.delays()]), flush=True)


# --- the driver ------------------------------------------------------------------------


async def answer(http: httpx.AsyncClient, run_id: str, step_id: str) -> None:
    """Approves the step, once the worker has made it wait."""
    while True:
        answered = await http.post(
            f"/api/v1/runs/{run_id}/approve", json={"step_id": step_id, "approved": True}
        )
        if answered.status_code == 200:
            return
        assert answered.json()["error_code"] == "NO_WAITING_STEP", answered.text
        await asyncio.sleep(0.01)


async def round_of(
    bases: list[str], key: str, clients: int, gate_count: int, interval: float, pids: list[int]
) -> dict[str, float]:
    """One run watched by `clients` sockets, spread over the servers at `bases`; the run
    is driven through the first."""
    base = bases[0]
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as http:
        created = (await http.post("/api/v1/workflows", json=gates(gate_count))).json()
        await http.post(f"/api/v1/workflows/{created['id']}/publish")
        run_id = (await http.post(f"/api/v1/workflows/{created['id']}/run", json={})).json()["id"]
        while (await http.get(f"/api/v1/runs/{run_id}")).json()["status"] != "waiting":
            await asyncio.sleep(0.05)

        # The clients open their sockets as a browser would: with a stream token in the URL.
        token = (await http.post("/api/v1/stream-tokens")).json()["token"]
        urls = [b.replace("http://", "ws://") + f"/ws/runs/{run_id}?token={token}" for b in bases]
        processes = await watchers(urls, clients)
        memory = [sum(rss_mb(pid) for pid in pids)]
        for i in range(gate_count):
            began = time.perf_counter()
            await answer(http, run_id, f"g{i}")
            memory.append(sum(rss_mb(pid) for pid in pids))
            await asyncio.sleep(max(interval - (time.perf_counter() - began), 0))
        found = await delays_of(processes, clients)
    return {**found, "rss": max(memory)}


async def watchers(urls: list[str], clients: int) -> list[asyncio.subprocess.Process]:
    """Client processes holding `clients` sockets over `urls`, each with its snapshot."""
    shares = [PER_PROCESS] * (clients // PER_PROCESS) + (
        [clients % PER_PROCESS] if clients % PER_PROCESS else []
    )
    processes = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bench.events", "--watch", urls[i % len(urls)]),
            *("--sockets", str(share)),
            stdout=asyncio.subprocess.PIPE,
        )
        for i, share in enumerate(shares)
    ]
    for process in processes:
        assert process.stdout is not None
        assert (await process.stdout.readline()).strip() == b"ready"
    return processes


async def delays_of(processes: list[asyncio.subprocess.Process], clients: int) -> dict[str, float]:
    """What the client processes measured, once their sockets closed."""
    delays: list[float] = []
    for process in processes:
        assert process.stdout is not None
        delays += json.loads(await process.stdout.read())
        await process.wait()
    ordered = sorted(delays)
    return {
        "events": len(ordered) / clients,
        "p50": statistics.median(ordered),
        "p99": ordered[max(math.ceil(len(ordered) * 0.99) - 1, 0)],
        "max": ordered[-1],
    }


async def floor_round(clients: int, bursts: int, interval: float) -> dict[str, float]:
    """The same clients against `bench.fanout_floor`: what fan-out costs on this machine
    with nothing of towpath's."""
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bench.fanout_floor", "--port", str(port)),
        *("--sockets", str(clients), "--bursts", str(bursts), "--interval", str(interval)),
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    assert (await server.stdout.readline()).strip() == b"listening"
    found = await delays_of(await watchers([f"ws://127.0.0.1:{port}/"], clients), clients)
    await server.wait()
    return found


async def main(args: argparse.Namespace) -> None:
    url = await fresh_postgres(args.postgres) if args.postgres else sqlite_url()
    port = free_port()
    env = {
        "TOWPATH_DATABASE_URL": url,
        "TOWPATH_PORT": str(port),
        "TOWPATH_LOG_LEVEL": "warning",
        # A thousand sockets open at once from one address with one credential.
        "TOWPATH_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
        "TOWPATH_RATE_LIMIT_CREDENTIAL_PER_MINUTE": "0",
    }
    key = admin_key(env)
    # With --worker-process (PostgreSQL), the API process only serves; a worker executes.
    # With --servers N (PostgreSQL), the first API process runs the worker, the others serve.
    ports = [port] + [free_port() for _ in range(args.servers - 1)]
    servers = [
        towpath(
            "serve",
            *(["--no-worker"] if args.worker_process or n else []),
            env={**env, "TOWPATH_PORT": str(each)},
        )
        for n, each in enumerate(ports)
    ]
    worker = towpath("worker", env=env) if args.worker_process else None
    bases = [f"http://127.0.0.1:{each}" for each in ports]
    pids = [server.pid for server in servers]
    try:
        for base in bases:
            await wait_ready(base)
        database = "PostgreSQL" if args.postgres else "SQLite"
        if worker is not None:
            database += ", runs executed by a `towpath worker` process"
        if len(servers) > 1:
            database += f", {len(servers)} API processes"
        print(f"live events, one run, {database}, one answer every {args.interval}s:")
        idle = sum(rss_mb(pid) for pid in pids)
        line("server memory idle", f"{idle:.0f} MB")
        for clients in (int(n) for n in args.clients.split(",")):
            found = await round_of(bases, key, clients, args.gates, args.interval, pids)
            line(
                f"{clients} clients: commit -> client p50 / p99 (max)",
                f"{found['p50']:.1f} / {found['p99']:.1f} ms",
                f"({found['max']:.0f} ms; {found['events']:.0f} events each; {found['rss']:.0f} MB)",
            )
            if clients >= 1000:
                # What the server holds per open socket, beyond its memory before any was
                # open (fewer sockets would mostly measure what the earlier rounds left).
                per_socket = (found["rss"] - idle) * 1024 / clients
                line(f"{clients} clients: server memory per socket", f"{per_socket:.1f} kB")
            if not args.no_floor:
                floor = await floor_round(clients, args.gates, args.interval)
                line(
                    f"{clients} clients: floor, a bare server's p50 / p99 (max)",
                    f"{floor['p50']:.1f} / {floor['p99']:.1f} ms",
                    f"({floor['max']:.0f} ms; p99 {found['p99'] / floor['p99']:.1f}x the floor's)",
                )
    finally:
        for process in (*servers, worker):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        if args.postgres:
            await drop_postgres(args.postgres, url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_POSTGRES, default=None)
    parser.add_argument("--clients", default="1,100,1000")
    parser.add_argument("--gates", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--worker-process", action="store_true")
    parser.add_argument("--servers", type=int, default=1, help="API processes (PostgreSQL)")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare server's round")
    parser.add_argument("--watch", help=argparse.SUPPRESS)
    parser.add_argument("--sockets", type=int, help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.watch:
        asyncio.run(watch(parsed.watch, parsed.sockets))
    else:
        asyncio.run(main(parsed))
