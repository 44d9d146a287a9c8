"""Engine benchmark: per-step overhead, throughput, memory, and the database's own floor.

    .venv/bin/python bench/engine.py [--postgres URL] [--runs 30] [--waiting 10000]

Every figure is measured in this one run and printed beside the floor it is judged by:
committed single-row transactions per second on the same connection settings.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bench.common import (
    DEFAULT_POSTGRES,
    chain,
    drop_postgres,
    free_port,
    fresh_postgres,
    line,
    median,
    migrate,
    postgres_floor,
    rss_mb,
    sqlite_floor,
    sqlite_url,
    towpath,
    wait_ready,
)
from towpath.auth.principal import Principal
from towpath.config import Settings
from towpath.domain.ids import new_id
from towpath.engine.runner import engine_running
from towpath.services import runs as run_service
from towpath.services.idempotency import IdempotencyPolicy
from towpath.steps.catalog import default_registry
from towpath.storage.database import Database
from towpath.storage.models import Run, Workflow
from towpath.storage.workspaces import ensure_workspace

if TYPE_CHECKING:
    from towpath.engine.runtime import Runtime
    from towpath.events.bus import PublishedEvent

STEPS = 10
POLICY = IdempotencyPolicy(ttl=timedelta(hours=24))


async def publish(db: Database, definition: dict[str, Any]) -> Principal:
    async with db.transaction() as session:
        workspace = await ensure_workspace(session)
        workflow_id = new_id()
        session.add(
            Workflow(
                id=workflow_id,
                workspace_id=workspace.id,
                lineage_id=workflow_id,
                name="bench",
                status="published",
                definition=definition,
                input_schema=None,
            )
        )
    return Principal(f"bench:{workflow_id}", workspace.id, "admin")


def _workflow_id(caller: Principal) -> str:
    return caller.subject.split(":", 1)[1]


class Completions:
    """Run ids as their `run.completed` event is published in this process."""

    def __init__(self, runtime: Runtime) -> None:
        self.done: set[str] = set()
        # One waiter per run: waking every waiter at each end would cost the benchmark's
        # own process O(runs in flight) per run, which it would count as the engine's.
        self._waiting: dict[str, asyncio.Future[None]] = {}
        runtime.bus.listen(self._on)

    def _on(self, event: PublishedEvent) -> None:
        if event.event_type in ("run.completed", "run.failed"):
            self.done.add(event.run_id)
            waiter = self._waiting.pop(event.run_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    async def wait(self, run_id: str) -> None:
        if run_id in self.done:
            return
        loop = asyncio.get_running_loop()
        await self._waiting.setdefault(run_id, loop.create_future())


async def start(runtime: Runtime, caller: Principal) -> str:
    run, _, _ = await run_service.start(runtime, caller, _workflow_id(caller), {}, None, POLICY)
    return run.id


async def per_step(url: str, runs: int, *, inline: bool) -> float:
    """(a) ms per step of a 10-step chain of no-op transforms, runs one after another."""
    await migrate(url)
    db = Database(url)
    settings = Settings(database_url=url, inline_pure_steps=inline)
    return await chain_ms_per_step(db, await publish(db, chain(STEPS)), settings, runs)


async def chain_ms_per_step(
    db: Database, caller: Principal, settings: Settings, runs: int
) -> float:
    """ms per step of the published workflow, runs one after another; disposes of `db`."""
    timings = []
    async with engine_running(db, default_registry(), settings, with_worker=True) as runtime:
        completions = Completions(runtime)
        for n in range(runs + 3):
            began = time.perf_counter()
            await completions.wait(await start(runtime, caller))
            if n >= 3:  # the first runs warm caches up
                timings.append((time.perf_counter() - began) * 1000 / STEPS)
    await db.dispose()
    return median(timings)


async def throughput_in_process(
    url: str,
    total: int,
    in_flight: int,
    definition: dict[str, Any] | None = None,
    allowed_hosts: list[str] | None = None,
) -> float:
    """(b) steps per second with `in_flight` runs in flight, engine in this process:
    runs of `definition` (a chain of STEPS transforms), whose steps may reach
    `allowed_hosts`."""
    await migrate(url)
    db = Database(url)
    caller = await publish(db, definition or chain(STEPS))
    settings = Settings(
        database_url=url, worker_concurrency=in_flight, step_allowed_hosts=allowed_hosts or []
    )
    return await steps_per_second(db, caller, settings, total, in_flight)


async def steps_per_second(
    db: Database, caller: Principal, settings: Settings, total: int, in_flight: int
) -> float:
    """Steps/s of `total` runs of the published workflow, `in_flight` at once; disposes of
    `db`."""
    async with engine_running(db, default_registry(), settings, with_worker=True) as runtime:
        completions = Completions(runtime)
        gate = asyncio.Semaphore(in_flight)

        async def one() -> None:
            async with gate:
                await completions.wait(await start(runtime, caller))

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(total)))
        elapsed = time.perf_counter() - began
    await db.dispose()
    return total * STEPS / elapsed


async def throughput_workers(
    url: str,
    workers: int,
    total: int,
    in_flight: int,
    definition: dict[str, Any] | None = None,
    allowed_hosts: list[str] | None = None,
) -> float:
    """(b) steps per second with `workers` `towpath worker` processes sharing the runs
    (of `definition`, as `throughput_in_process`)."""
    await migrate(url)
    db = Database(url)
    caller = await publish(db, definition or chain(STEPS))
    env = {"TOWPATH_DATABASE_URL": url, "TOWPATH_POLL_SECONDS": "0.05"}
    if allowed_hosts:
        env["TOWPATH_STEP_ALLOWED_HOSTS"] = ",".join(allowed_hosts)
    processes = [towpath("worker", "--concurrency", "256", env=env) for _ in range(workers)]
    # The runs are started here and executed by the workers: nothing runs inline here.
    settings = Settings(database_url=url, run_worker=False, inline_pure_steps=False)
    try:
        await asyncio.sleep(2.5)  # let every worker start before the clock does
        async with engine_running(db, default_registry(), settings, with_worker=False) as rt:
            began = time.perf_counter()
            started = 0
            while True:
                done = await _count(db, "completed")
                if done >= total:
                    break
                top_up = max(min(in_flight - (started - done), total - started), 0)
                await asyncio.gather(*(start(rt, caller) for _ in range(top_up)))
                started += top_up
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - began
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        await db.dispose()
    return total * STEPS / elapsed


async def _count(db: Database, status: str) -> int:
    async with db.read() as session:
        found = await session.scalar(select(func.count()).where(Run.status == status))
        return int(found or 0)


async def idle_server_mb(url: str) -> float:
    port = free_port()
    server = towpath("serve", "--port", str(port), env={"TOWPATH_DATABASE_URL": url})
    try:
        await wait_ready(f"http://127.0.0.1:{port}")
        await asyncio.sleep(1.0)
        return rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


async def waiting_runs_mb(url: str, count: int, warm_up: int = 1000) -> tuple[float, float]:
    """A worker's memory before and after `count` runs came to wait for an approval. The
    worker first handles `warm_up` such runs, so first-use costs (code paths, caches,
    the allocator's arenas) are in the figure before, not counted as the runs' cost."""
    await migrate(url)
    db = Database(url)
    approval = {
        "nodes": [{"id": "ask", "type": "approval", "data": {"config": {"message": "ok?"}}}],
        "edges": [],
    }
    caller = await publish(db, approval)
    worker = towpath("worker", env={"TOWPATH_DATABASE_URL": url, "TOWPATH_POLL_SECONDS": "0.05"})
    settings = Settings(database_url=url, run_worker=False, inline_pure_steps=False)
    try:
        await asyncio.sleep(2.5)
        async with engine_running(db, default_registry(), settings, with_worker=False) as rt:
            for _ in range(warm_up):
                await start(rt, caller)
            while await _count(db, "waiting") < warm_up:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            before = rss_mb(worker.pid)
            for _ in range(count):
                await start(rt, caller)
        while await _count(db, "waiting") < warm_up + count:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        after = rss_mb(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        await db.dispose()
    return before, after


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--total", type=int, default=1000, help="runs for the throughput figures")
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    print("SQLite (WAL, synchronous=FULL)")
    floor = sqlite_floor()
    floor_ms = 1000 / floor
    line("floor: committed single-row transactions/s", f"{floor:,.0f}", f"({floor_ms:.3f} ms each)")
    a = await per_step(sqlite_url(), args.runs, inline=True)
    line(
        "(a) per-step overhead, 10 no-op transforms",
        f"{a:.3f} ms",
        f"= {a / floor_ms:.1f} floor txns; target 0.5 ms",
    )
    a2 = await per_step(sqlite_url(), args.runs, inline=False)
    line(
        "(a) same, pure steps not inlined (one commit each)",
        f"{a2:.3f} ms",
        f"= {a2 / floor_ms:.1f} floor txns",
    )
    b = await throughput_in_process(sqlite_url(), args.total, 200)
    line(
        "(b) steps/s, 200 runs in flight, one process",
        f"{b:,.0f}",
        f"= {b / floor:.2f} of floor; target 3,000",
    )
    idle = await idle_server_mb(sqlite_url())
    line("(c) idle `towpath serve`, resident memory", f"{idle:.0f} MB", "target < 100 MB")
    before, after = await waiting_runs_mb(sqlite_url(), args.waiting)
    line(
        f"(c) worker before / after {args.waiting:,} waiting runs",
        f"{before:.0f} / {after:.0f} MB",
        f"(+{after - before:.1f} MB)",
    )

    if not args.skip_postgres:
        print("PostgreSQL (local)")
        pfloor = await postgres_floor(args.postgres)
        pfloor_ms = 1000 / pfloor
        line(
            "floor: committed single-row transactions/s",
            f"{pfloor:,.0f}",
            f"({pfloor_ms:.3f} ms each)",
        )
        url = await fresh_postgres(args.postgres)
        try:
            pa = await per_step(url, args.runs, inline=True)
            line(
                "(a) per-step overhead, 10 no-op transforms",
                f"{pa:.3f} ms",
                f"= {pa / pfloor_ms:.1f} floor txns; target 1.5 ms",
            )
            pa2 = await per_step(url, args.runs, inline=False)
            line(
                "(a) same, pure steps not inlined",
                f"{pa2:.3f} ms",
                f"= {pa2 / pfloor_ms:.1f} floor txns",
            )
        finally:
            await drop_postgres(args.postgres, url)
        for workers in (1, 2, 4):
            url = await fresh_postgres(args.postgres)
            try:
                pb = await throughput_workers(url, workers, args.total, 200)
            finally:
                await drop_postgres(args.postgres, url)
            note = "; target 2,000" if workers == 2 else ""
            line(
                f"(b) steps/s, 200 runs in flight, {workers} worker process(es)",
                f"{pb:,.0f}",
                f"= {pb / pfloor:.2f} of floor{note}",
            )

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line("(c) peak memory of this benchmark process", f"{peak:.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
