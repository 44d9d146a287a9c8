"""Fair sharing benchmark: how long workspace B's one step waits while workspace A has
10,000 steps queued, and the same without A's load; and what a claim costs as A's queue
grows.

    .venv/bin/python -m bench.fairness [--postgres URL] [--queued 10000] [--samples 100]

A `towpath worker` process (64 steps at once) executes A's steps: calls to a local server
that answers after 0.5 to 1.5 s, so the queue stays ~10,000 long while B is measured. B's runs
(one call to the same server, answered at once) start one after another from this
process; a step's latency is from its run's start to the step's start (both committed
times), and to the run's end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bench.common import (
    DEFAULT_POSTGRES,
    drop_postgres,
    free_port,
    fresh_postgres,
    line,
    median,
    migrate,
    sqlite_url,
    towpath,
)
from towpath.auth.principal import Principal
from towpath.config import Settings
from towpath.domain.ids import new_id
from towpath.engine.claim import claim_ready_steps
from towpath.engine.drivers import connect_driver
from towpath.engine.fair_share import Turns, take_ready_steps
from towpath.engine.graphs import WorkflowCache
from towpath.engine.lifecycle import start_run
from towpath.engine.run_io import flush_runs
from towpath.engine.runner import engine_running
from towpath.engine.settings import RunLimits
from towpath.engine.sql import database_now
from towpath.services import runs as run_service
from towpath.services.idempotency import IdempotencyPolicy
from towpath.steps.catalog import default_registry
from towpath.storage.database import Database
from towpath.storage.models import Run, StepRun, Workflow
from towpath.storage.workspaces import ensure_workspace

if TYPE_CHECKING:
    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.engine.work import Work

POLICY = IdempotencyPolicy(ttl=timedelta(hours=24))
SLOW_SECONDS = 1.0
CONCURRENCY = 64


class CallServer:
    """HTTP on loopback: `/slow` answers after SLOW_SECONDS, anything else at once."""

    def __init__(self) -> None:
        self.port = free_port()
        self._rng = random.Random(7)
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> CallServer:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if b" /slow" in head.split(b"\r\n", 1)[0]:
                    # Calls of different lengths: the worker's room frees a step at a
                    # time, as it would under real load, not in waves.
                    await asyncio.sleep(self._rng.uniform(0.5, 1.5) * SLOW_SECONDS)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\n\r\n{}"
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def _calling(url: str) -> dict[str, Any]:
    config = {"url": url, "timeout": 30}
    node = {"id": "call", "type": "http_request", "data": {"config": config}}
    return {"nodes": [node], "edges": []}


async def publish(db: Database, slug: str, definition: dict[str, Any]) -> Principal:
    async with db.transaction() as session:
        workspace = await ensure_workspace(session, slug)
        workflow_id = new_id()
        session.add(
            Workflow(
                id=workflow_id,
                workspace_id=workspace.id,
                lineage_id=workflow_id,
                name=slug,
                status="published",
                definition=definition,
                input_schema=None,
            )
        )
    return Principal(f"bench:{workflow_id}", workspace.id, "admin")


def _workflow_id(caller: Principal) -> str:
    return caller.subject.split(":", 1)[1]


# The backlog is the point here: the in-flight bounds would refuse it.
UNBOUNDED = RunLimits(in_flight_per_workspace=10**9, in_flight_per_workflow=10**9)


async def queue_runs(driver: TransitionDriver, caller: Principal, count: int) -> None:
    """`count` runs started in bulk, their steps left queued for a claim."""
    d = driver.dialect
    workflows = WorkflowCache()

    def start_many(n: int) -> Gen[None]:
        workflow = yield from workflows.get(d, _workflow_id(caller))
        started: list[RunTransaction] = []
        for _ in range(n):
            started.append((yield from start_run(d, workflow, {}, UNBOUNDED, write=False)))
        yield from flush_runs(d, started)

    for done in range(0, count, 1000):
        await driver.run(partial(start_many, min(1000, count - done)))


async def _count(db: Database, status: str) -> int:
    async with db.read() as session:
        found = await session.scalar(
            select(func.count()).select_from(StepRun).where(StepRun.status == status)
        )
        return int(found or 0)


async def _ended(db: Database, run_id: str) -> None:
    while True:
        async with db.read() as session:
            status = await session.scalar(select(Run.status).where(Run.id == run_id))
        if status in ("completed", "failed"):
            return
        await asyncio.sleep(0.005)


async def _latencies(db: Database, run_id: str) -> tuple[float, float]:
    async with db.read() as session:
        run = (await session.execute(select(Run).where(Run.id == run_id))).scalar_one()
        step = (await session.execute(select(StepRun).where(StepRun.run_id == run_id))).scalar_one()
    if run.status != "completed" or step.started_at is None or run.completed_at is None:
        raise RuntimeError(f"B's run {run_id} ended {run.status}: {run.error}")
    started = (step.started_at - run.created_at).total_seconds() * 1000
    ended = (run.completed_at - run.created_at).total_seconds() * 1000
    return started, ended


async def b_latency(url: str, queued: int, samples: int) -> dict[str, float]:
    """B's step: ms from its run's start to the step's start and to the run's end, while
    A has `queued` steps waiting (and a worker busy with A's slow calls)."""
    await migrate(url)
    db = Database(url)
    driver = await connect_driver(url, "FULL")
    try:
        async with CallServer() as server:
            a = await publish(db, "a", _calling(server.url("/slow")))
            b = await publish(db, "b", _calling(server.url("/fast")))
            await queue_runs(driver, a, queued)
            env = {
                "TOWPATH_DATABASE_URL": url,
                "TOWPATH_POLL_SECONDS": "0.05",
                "TOWPATH_STEP_ALLOWED_HOSTS": "127.0.0.0/8",
            }
            worker = towpath("worker", "--concurrency", str(CONCURRENCY), env=env)
            try:
                return await _measure(db, url, a, b, queued, samples)
            finally:
                worker.terminate()
                await asyncio.to_thread(worker.wait, 60)
    finally:
        await driver.close()
        await db.dispose()


async def _measure(
    db: Database, url: str, a: Principal, b: Principal, queued: int, samples: int
) -> dict[str, float]:
    # The runs are started here, as an API process would, and executed by the worker.
    settings = Settings(database_url=url, run_worker=False, inline_pure_steps=False)
    async with engine_running(db, default_registry(), settings, with_worker=False) as rt:
        busy = min(queued, CONCURRENCY)
        deadline = time.monotonic() + 60
        while await _count(db, "running") < busy:
            if time.monotonic() > deadline:
                raise RuntimeError("the worker never took up A's steps")
            await asyncio.sleep(0.05)
        # The worker has started and is warm: B's first run is not counted.
        await _ended(db, await _start(rt, b))
        left_before = await _count(db, "queued")
        starts: list[float] = []
        ends: list[float] = []
        for _ in range(samples):
            run_id = await _start(rt, b)
            await _ended(db, run_id)
            started, ended = await _latencies(db, run_id)
            starts.append(started)
            ends.append(ended)
        left_after = await _count(db, "queued")
    return {
        "start_p50": median(starts),
        "start_p99": _p99(starts),
        "end_p50": median(ends),
        "end_p99": _p99(ends),
        "queued_before": left_before,
        "queued_after": left_after,
    }


async def _start(runtime: Runtime, caller: Principal) -> str:
    run, _, _ = await run_service.start(runtime, caller, _workflow_id(caller), {}, None, POLICY)
    return run.id


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else float("nan")


async def claim_cost(url: str, queued: int, claims: int = 12) -> tuple[float, float]:
    """Median ms of choosing a batch of 64 ready steps (the fair-share queries), and of a
    whole claim of 64 (choose, lease, record their events), with `queued` steps of
    workspace A and one of B in the queue, no worker running."""
    await migrate(url)
    db = Database(url)
    driver = await connect_driver(url, "FULL")
    try:
        a = await publish(db, "a", _calling("http://127.0.0.1:9/slow"))
        b = await publish(db, "b", _calling("http://127.0.0.1:9/fast"))
        await queue_runs(driver, a, queued)
        await queue_runs(driver, b, 1)
        if driver.dialect.is_postgres:
            async with db.engine.connect() as conn:
                await conn.exec_driver_sql("ANALYZE")
        d = driver.dialect
        workflows = WorkflowCache()
        turns = Turns()

        def choose() -> Gen[list[tuple[str, str]]]:
            now = yield from database_now(d)
            return (yield from take_ready_steps(d, now, CONCURRENCY, Turns()))

        def claim() -> Gen[list[Work]]:
            now = yield from database_now(d)
            claimed, _ = yield from claim_ready_steps(
                d, workflows, "bench", CONCURRENCY, timedelta(minutes=5), now, turns=turns
            )
            return claimed

        choosing, claiming = [], []
        for _ in range(claims):
            began = time.perf_counter()
            await driver.run(choose)
            choosing.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            await driver.run(claim)
            claiming.append((time.perf_counter() - began) * 1000)
        return median(choosing[2:]), median(claiming[2:])
    finally:
        await driver.close()
        await db.dispose()


async def database(label: str, url_for: Any, args: argparse.Namespace) -> None:
    print(label)
    for queued in (1_000, args.queued):
        url = await url_for()
        try:
            choosing, claiming = await claim_cost(url, queued)
        finally:
            await url_for.done(url)
        line(f"choosing {CONCURRENCY} steps to claim, {queued:,} queued", f"{choosing:.2f} ms")
        line(f"a whole claim of {CONCURRENCY} steps, {queued:,} queued", f"{claiming:.2f} ms")
    for queued in (args.queued, 0):
        url = await url_for()
        try:
            found = await b_latency(url, queued, args.samples)
        finally:
            await url_for.done(url)
        load = f"A: {queued:,} queued" if queued else "no load from A"
        note = (
            f"(A's queue {found['queued_before']:,.0f} -> {found['queued_after']:,.0f})"
            if queued
            else ""
        )
        line(
            f"B's step, run start -> step start, p50 / p99, {load}",
            f"{found['start_p50']:.1f} / {found['start_p99']:.1f} ms",
            note,
        )
        line(
            f"B's run, start -> end, p50 / p99, {load}",
            f"{found['end_p50']:.1f} / {found['end_p99']:.1f} ms",
        )


class SqliteUrls:
    async def __call__(self) -> str:
        return sqlite_url()

    async def done(self, url: str) -> None:
        return None


class PostgresUrls:
    def __init__(self, base: str) -> None:
        self.base = base

    async def __call__(self) -> str:
        return await fresh_postgres(self.base)

    async def done(self, url: str) -> None:
        await drop_postgres(self.base, url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    await database("SQLite (WAL, synchronous=FULL)", SqliteUrls(), args)
    if not args.skip_postgres:
        await database("PostgreSQL (local)", PostgresUrls(args.postgres), args)


if __name__ == "__main__":
    asyncio.run(main())
