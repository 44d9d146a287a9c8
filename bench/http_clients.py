"""The HTTP client steps call out with, beside httpx, on the same no-op server, same run.

    .venv/bin/python -m bench.http_clients [--calls 3000] [--in-flight 200] [--repeat 3]

For each client: the CPU time of one call (this process's CPU over calls made one after
another, so a loaded machine inflates it less than wall time) and its wall time, and calls
per second with `--in-flight` calls at once. The steps' client is `steps.http_client`'s
session (aiohttp behind the egress guard); httpx is a plain `httpx.AsyncClient` with as
many connections. Medians of `--repeat` repetitions.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import TYPE_CHECKING

import httpx

from bench.common import line, median
from bench.http_steps import NoOpServer
from towpath.steps.egress import EgressPolicy
from towpath.steps.http_client import CONNECTIONS, step_session

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


async def _serial(call: Callable[[], Awaitable[None]], calls: int) -> tuple[float, float]:
    """(ms of CPU a call, ms of wall time a call), calls one after another."""
    for _ in range(50):
        await call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    return (
        (time.process_time() - cpu) * 1000 / calls,
        (time.perf_counter() - wall) * 1000 / calls,
    )


async def _concurrent(call: Callable[[], Awaitable[None]], calls: int, in_flight: int) -> float:
    gate = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with gate:
            await call()

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(calls)))
    return calls / (time.perf_counter() - began)


async def _measure(url: str, port: int, args: argparse.Namespace) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    policy = EgressPolicy.parse([f"127.0.0.1:{port}"])
    for _ in range(args.repeat):
        async with httpx.AsyncClient(limits=limits) as client:

            async def plain() -> None:
                (await client.get(url)).read()

            cpu, wall = await _serial(plain, args.calls)
            rate = await _concurrent(plain, args.calls, args.in_flight)
            for key, value in (("httpx cpu", cpu), ("httpx wall", wall), ("httpx rate", rate)):
                found.setdefault(key, []).append(value)
        async with step_session(policy) as session:

            async def step() -> None:
                async with session.get(url) as response:
                    await response.read()

            cpu, wall = await _serial(step, args.calls)
            rate = await _concurrent(step, args.calls, args.in_flight)
            for key, value in (("steps cpu", cpu), ("steps wall", wall), ("steps rate", rate)):
                found.setdefault(key, []).append(value)
    return found


async def main(args: argparse.Namespace) -> None:
    async with NoOpServer() as server:
        found = await _measure(server.url, server.port, args)
    print(f"one call after another ({args.calls} calls), and {args.in_flight} in flight")
    for name, label in (("httpx", "httpx.AsyncClient"), ("steps", "steps' client (aiohttp)")):
        cpu, wall, rate = (median(found[f"{name} {k}"]) for k in ("cpu", "wall", "rate"))
        line(f"{label}: CPU per call", f"{cpu:.3f} ms", f"wall {wall:.3f} ms")
        line(f"{label}: calls/s, {args.in_flight} in flight", f"{rate:,.0f}")
    ratio = median(found["httpx cpu"]) / median(found["steps cpu"])
    line("httpx's CPU per call / the steps' client's", f"{ratio:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
