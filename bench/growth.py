"""Growth benchmark: reads and per-step time on a database of a million finished runs.

    .venv/bin/python -m bench.growth [--runs 1000000] [--postgres [URL]] [--requests 500]

Fills the tables with bulk SQL straight into them (executemany in large transactions on
SQLite, COPY on PostgreSQL): finished runs of 3 steps and 10 events each, with JSON of
the sizes real runs have, spread over 30 days and 20 workflows. Then it starts `towpath
serve` on that database and times each read the API offers on runs, one request after
another from an httpx client, `--requests` times each, `--repeat` times over; the same
reads on a database of `--small` runs, measured in the same run, are the floor. Last,
the engine's per-step time (bench.engine's figure (a)) on the grown database and on an
empty one. `--keep` leaves the grown database behind and `--reuse URL` measures one left
before (after applying any newer migration to it, timed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.common import (
    DEFAULT_POSTGRES,
    _pg_args,
    admin_key,
    chain,
    drop_postgres,
    free_port,
    fresh_postgres,
    line,
    median,
    migrate,
    sqlite_url,
    towpath,
    wait_ready,
)
from bench.engine import per_step

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKFLOWS = 20
STEPS = 3
SPAN = timedelta(days=30)
CHUNK = 20_000  # runs per transaction while filling
STATUSES = (("completed", 0.93), ("failed", 0.05), ("cancelled", 0.02))
ENV = {
    "TOWPATH_LOG_LEVEL": "warning",
    # One client address and one key drive every request.
    "TOWPATH_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
    "TOWPATH_RATE_LIMIT_CREDENTIAL_PER_MINUTE": "0",
}

RUN_COLUMNS = [
    "id",
    "workspace_id",
    "workflow_id",
    "status",
    "trigger_type",
    "input",
    "context",
    "error",
    "idempotency_key",
    "last_seq",
    "created_by",
    "started_at",
    "completed_at",
    "created_at",
    "updated_at",
]
STEP_COLUMNS = [
    "id",
    "workspace_id",
    "run_id",
    "step_id",
    "item_index",
    "step_type",
    "status",
    "attempt",
    "input",
    "output",
    "error",
    "attempts",
    "started_at",
    "completed_at",
    "created_at",
    "available_at",
]
EVENT_COLUMNS = ["workspace_id", "run_id", "seq", "event_type", "step_id", "data", "created_at"]


def _doc(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# Documents of the sizes a small business workflow's runs have: ~300 bytes of input, an
# output of ~200 bytes per step, the run's context holding every step's output.
_ORDER = {
    "customer": {"id": "cus_8f2a91c4", "email": "someone@example.com", "tier": "gold"},
    "items": [{"sku": f"SKU-{n:05d}", "quantity": n, "price": 19.5 * n} for n in range(1, 4)],
    "currency": "EUR",
    "note": "leave at the front door, ring twice",
}
INPUT = _doc(_ORDER)
OUTPUT = _doc({"status": 200, "body": {"accepted": True, "reference": "ref-5c1d7e", "eta_days": 3}})
CONTEXT = _doc({f"s{n}": json.loads(OUTPUT) for n in range(STEPS)})
STEP_INPUT = _doc({"url": "https://api.example.com/orders", "method": "POST", "body": _ORDER})
ATTEMPTS = _doc(
    [{"attempt": 1, "outcome": "completed", "started_at": "2026-11-01T10:00:00.000000+00:00"}]
)
ERROR = "HTTP 503 from https://api.example.com/orders after 3 attempts: service unavailable"


@dataclass
class Chunk:
    runs: list[tuple[Any, ...]] = field(default_factory=list)
    steps: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)


def _uuid7(moment: datetime, rng: random.Random) -> str:
    """The ids towpath makes (domain.ids.new_id), for a moment in the past."""
    millis = int(moment.timestamp() * 1000)
    value = (millis & ((1 << 48) - 1)) << 80 | rng.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _sqlite_time(moment: datetime) -> str:
    """As SQLAlchemy's SQLite dialect writes a UTC time."""
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def chunks(
    count: int, workspace_id: str, workflow_ids: list[str], end: datetime, *, sqlite: bool
) -> Iterator[Chunk]:
    """`count` finished runs with their steps and events, oldest first, `CHUNK` at a time."""
    rng = random.Random(7)
    spacing = SPAN / count
    first = end - SPAN
    when = _sqlite_time if sqlite else (lambda moment: moment)
    names = [name for name, _ in STATUSES]
    weights = [weight for _, weight in STATUSES]
    offsets = [timedelta(milliseconds=5 + 40 * k) for k in range(2 * STEPS + 2)]
    chunk = Chunk()
    for n in range(count):
        created = first + spacing * n
        run_id = _uuid7(created, rng)
        status = rng.choices(names, weights)[0]
        times = [when(created + offset) for offset in offsets]
        made = when(created)
        chunk.runs.append(
            (
                run_id,
                workspace_id,
                workflow_ids[n % WORKFLOWS],
                status,
                "manual",
                INPUT,
                CONTEXT,
                ERROR if status == "failed" else None,
                None,
                10,
                "key:bench",
                times[0],
                times[-1],
                made,
                times[-1],
            )
        )
        events: list[tuple[str, str | None, str]] = [
            ("run.created", None, INPUT),
            ("run.started", None, "{}"),
        ]
        for k in range(STEPS):
            last = k == STEPS - 1
            step_status = status if last else "completed"
            chunk.steps.append(
                (
                    _uuid7(created, rng),
                    workspace_id,
                    run_id,
                    f"s{k}",
                    -1,
                    "http_request",
                    step_status,
                    1,
                    STEP_INPUT,
                    OUTPUT if step_status == "completed" else None,
                    ERROR if step_status == "failed" else None,
                    ATTEMPTS,
                    times[2 * k],
                    times[2 * k + 1],
                    made,
                    times[2 * k],
                )
            )
            if k == 1:
                events.append(("step.queued", f"s{k}", "{}"))
            events.append(("step.started", f"s{k}", '{"attempt":1,"worker":"w-1a2b3c"}'))
            events.append((f"step.{step_status}", f"s{k}", OUTPUT))
        events.append((f"run.{status}", None, "{}"))
        for seq, (event_type, step_id, data) in enumerate(events, start=1):
            moment = times[min(seq // 2, len(times) - 1)]
            chunk.events.append((workspace_id, run_id, seq, event_type, step_id, data, moment))
        if len(chunk.runs) == CHUNK:
            yield chunk
            chunk = Chunk()
    if chunk.runs:
        yield chunk


def _insert(table: str, columns: list[str]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


WORKFLOW_COLUMNS = [
    "id",
    "workspace_id",
    "lineage_id",
    "name",
    "description",
    "version",
    "status",
    "definition",
    "input_schema",
    "created_at",
    "updated_at",
    "published_at",
]


def _workflows(workspace_id: str, ids: list[str], moment: Any) -> list[tuple[Any, ...]]:
    definition = _doc(chain(STEPS))
    return [
        (
            wid,
            workspace_id,
            wid,
            f"growth-{n}",
            "",
            1,
            "published",
            definition,
            None,
            moment,
            moment,
            moment,
        )
        for n, wid in enumerate(ids)
    ]


def fill_sqlite(path: str, count: int, workspace_id: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    # Filling is not what is measured: no fsync, a large cache.
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    end = datetime.now(UTC) - timedelta(hours=1)
    rng = random.Random(3)
    workflow_ids = [_uuid7(end - SPAN, rng) for _ in range(WORKFLOWS)]
    moment = _sqlite_time(end - SPAN)
    conn.execute("BEGIN")
    conn.executemany(
        _insert("workflows", WORKFLOW_COLUMNS), _workflows(workspace_id, workflow_ids, moment)
    )
    conn.execute("COMMIT")
    for chunk in chunks(count, workspace_id, workflow_ids, end, sqlite=True):
        conn.execute("BEGIN")
        conn.executemany(_insert("runs", RUN_COLUMNS), chunk.runs)
        conn.executemany(_insert("step_runs", STEP_COLUMNS), chunk.steps)
        conn.executemany(_insert("run_events", EVENT_COLUMNS), chunk.events)
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def fill_postgres(url: str, count: int, workspace_id: str) -> None:
    conn = await asyncpg.connect(**_pg_args(url))
    try:
        # The rows are consistent by construction: skip the foreign-key triggers.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET synchronous_commit = off")
        end = datetime.now(UTC) - timedelta(hours=1)
        rng = random.Random(3)
        workflow_ids = [_uuid7(end - SPAN, rng) for _ in range(WORKFLOWS)]
        moment = end - SPAN
        await conn.copy_records_to_table(
            "workflows",
            columns=WORKFLOW_COLUMNS,
            records=_workflows(workspace_id, workflow_ids, moment),
        )
        for chunk in chunks(count, workspace_id, workflow_ids, end, sqlite=False):
            async with conn.transaction():
                await conn.copy_records_to_table("runs", columns=RUN_COLUMNS, records=chunk.runs)
                await conn.copy_records_to_table(
                    "step_runs", columns=STEP_COLUMNS, records=chunk.steps
                )
                await conn.copy_records_to_table(
                    "run_events", columns=EVENT_COLUMNS, records=chunk.events
                )
        # What autovacuum does to a table that grew: statistics and the visibility map.
        await conn.execute("VACUUM (ANALYZE) runs, step_runs, run_events, workflows")
    finally:
        await conn.close()


async def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one statement, straight from the database the URL names."""
    if url.startswith("sqlite"):
        path = make_url(url).database or ""
        return await asyncio.to_thread(_sqlite_query, path, sql)
    conn = await asyncpg.connect(**_pg_args(url))
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


def _sqlite_query(path: str, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def grow(url: str, count: int) -> tuple[str, float]:
    """A database of `count` finished runs with a real admin key; the key, the seconds taken."""
    env = {"TOWPATH_DATABASE_URL": url, **ENV}
    key = await asyncio.to_thread(admin_key, env)  # migrates, makes the default workspace
    rows = await query(url, "SELECT id FROM workspaces WHERE slug = 'default'")
    began = time.perf_counter()
    if url.startswith("sqlite"):
        await asyncio.to_thread(fill_sqlite, make_url(url).database or "", count, rows[0][0])
    else:
        await fill_postgres(url, count, rows[0][0])
    return key, time.perf_counter() - began


async def size_mb(url: str) -> float:
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    rows = await query(url, "SELECT pg_database_size(current_database())")
    return float(rows[0][0]) / 2**20


@dataclass(frozen=True)
class Read:
    label: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    # Each request reads another run: `{id}` in the path takes the sampled ids in turn.
    per_run: bool = False


async def reads(client: httpx.AsyncClient, url: str) -> tuple[list[Read], list[str]]:
    """Every list filter, every sort, a page further in, and one run's reads."""
    ids = [r[0] for r in await query(url, "SELECT id FROM runs ORDER BY random() LIMIT 500")]
    workflow = (await query(url, "SELECT id FROM workflows WHERE name = 'growth-0'"))[0][0]
    run = (await client.get(f"/api/v1/runs/{ids[0]}")).json()
    middle = datetime.fromisoformat(run["created_at"])
    day = {
        "since": (middle - timedelta(hours=12)).isoformat(),
        "until": (middle + timedelta(hours=12)).isoformat(),
    }
    runs = "/api/v1/runs"
    found = [
        Read("runs, page 1, newest first (the default)", runs),
        Read("runs, page 50", runs, {"page": 50}),
        Read("runs, per_page=100", runs, {"per_page": 100}),
        Read("runs?workflow_id=", runs, {"workflow_id": workflow}),
        Read("runs?status=failed", runs, {"status": "failed"}),
        Read("runs?status=running (none)", runs, {"status": "running"}),
        Read("runs?since=&until= (one day)", runs, day),
        Read(
            "runs?workflow_id=&status=failed", runs, {"workflow_id": workflow, "status": "failed"}
        ),
        Read("runs?workflow_id=&since=&until=", runs, {"workflow_id": workflow, **day}),
        Read("runs?status=completed&since=&until=", runs, {"status": "completed", **day}),
        Read("runs?sort=created_at (oldest first)", runs, {"sort": "created_at"}),
        Read("runs?sort=-completed_at", runs, {"sort": "-completed_at"}),
        Read("runs?sort=completed_at", runs, {"sort": "completed_at"}),
        Read("runs?sort=status", runs, {"sort": "status"}),
        Read("runs?sort=-status", runs, {"sort": "-status"}),
        Read("runs/{id}", "/api/v1/runs/{id}", per_run=True),
        Read("runs/{id}/steps", "/api/v1/runs/{id}/steps", per_run=True),
        Read("runs/{id}/events", "/api/v1/runs/{id}/events", per_run=True),
    ]
    return found, ids


@dataclass
class Timing:
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    total: str = ""


async def time_read(
    client: httpx.AsyncClient, read: Read, ids: list[str], requests: int, timing: Timing
) -> None:
    elapsed = []
    warm_up = max(1, requests // 50)  # the first requests warm caches up
    for n in range(requests + warm_up):
        path = read.path.replace("{id}", ids[n % len(ids)]) if read.per_run else read.path
        began = time.perf_counter()
        response = await client.get(path, params=read.params)
        took = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{read.label}: {response.status_code} {response.text[:200]}")
        if n >= warm_up:
            elapsed.append(took)
    elapsed.sort()
    timing.p50.append(median(elapsed))
    timing.p99.append(elapsed[max(int(len(elapsed) * 0.99) - 1, 0)])
    total = response.headers.get("X-Total-Count")
    if total is not None:
        exact = response.headers.get("X-Total-Count-Exact", "true") == "true"
        timing.total = f"{int(total):,}" + ("" if exact else "+")


class Server:
    """`towpath serve` on a database, and a client with its admin key."""

    def __init__(self, url: str, key: str) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = towpath(
            "serve", "--port", str(port), env={"TOWPATH_DATABASE_URL": url, **ENV}
        )
        headers = {"Authorization": f"Bearer {key}"}
        self.client = httpx.AsyncClient(base_url=self.base, headers=headers, timeout=60)

    async def __aenter__(self) -> httpx.AsyncClient:
        await wait_ready(self.base, seconds=120)
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        self.process.terminate()
        await asyncio.to_thread(self.process.wait, 30)


async def measure_reads(
    small: tuple[str, str], grown: tuple[str, str], requests: int, repeat: int
) -> None:
    async with Server(*small) as small_client, Server(*grown) as grown_client:
        small_reads, small_ids = await reads(small_client, small[0])
        grown_reads, grown_ids = await reads(grown_client, grown[0])
        timings = {read.label: (Timing(), Timing()) for read in grown_reads}
        for _ in range(repeat):
            for small_read, grown_read in zip(small_reads, grown_reads, strict=True):
                on_small, on_grown = timings[grown_read.label]
                await time_read(small_client, small_read, small_ids, requests, on_small)
                await time_read(grown_client, grown_read, grown_ids, requests, on_grown)
    print(f"  reads: p50 / p99 ms, median of {repeat} x {requests} sequential requests each")
    line("read", "grown", "small (floor); X-Total-Count on the grown one; p99 of each round")
    for label, (on_small, on_grown) in timings.items():
        grown_figure = f"{median(on_grown.p50):.1f} / {median(on_grown.p99):.1f}"
        rounds = ", ".join(f"{p:.1f}" for p in on_grown.p99)
        note = f"{median(on_small.p50):.1f} / {median(on_small.p99):.1f}"
        total = f"; total {on_grown.total}" if on_grown.total else ""
        line(label, grown_figure, f"{note}{total}; ({rounds})")


async def measure_steps(grown: str, fresh: Any, runs: int, repeat: int) -> None:
    """bench.engine's figure (a) on the grown database and on empty ones, in turns."""
    for inline in (True, False):
        on_grown, on_fresh = [], []
        for n in range(repeat):
            # In turns, each first every other round: a slower spell of a shared machine
            # then falls on both.
            if n % 2:
                on_grown.append(await per_step(grown, runs, inline=inline))
            url = await fresh()
            try:
                on_fresh.append(await per_step(url, runs, inline=inline))
            finally:
                await fresh.drop(url)
            if not n % 2:
                on_grown.append(await per_step(grown, runs, inline=inline))
        label = "(a) per-step, 10 no-op transforms" + ("" if inline else ", not inlined")
        ratio = median(on_grown) / median(on_fresh)
        rounds = ", ".join(f"{v:.3f}" for v in on_grown)
        line(
            label,
            f"{median(on_grown):.3f} ms",
            f"empty database {median(on_fresh):.3f} ms; x{ratio:.2f}; ({rounds})",
        )


class Databases:
    """New databases of one kind, and their removal."""

    def __init__(self, postgres: str | None) -> None:
        self.postgres = postgres

    async def __call__(self) -> str:
        return await fresh_postgres(self.postgres) if self.postgres else sqlite_url()

    async def drop(self, url: str) -> None:
        if self.postgres:
            await drop_postgres(self.postgres, url)
        else:
            shutil.rmtree(Path(make_url(url).database or "").parent, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000, help="runs in the floor's database")
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_POSTGRES, default=None)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine-runs", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="leave the grown database")
    parser.add_argument("--reuse", metavar="URL", help="measure a database left by --keep")
    args = parser.parse_args()

    fresh = Databases(args.postgres)
    kind = "PostgreSQL (local)" if args.postgres else "SQLite (WAL, synchronous=FULL)"
    print(f"{kind}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    small_url = await fresh()
    grown_url = args.reuse or await fresh()
    try:
        small = await grow(small_url, args.small)
        if args.reuse:
            began = time.perf_counter()
            await migrate(grown_url)
            upgraded = time.perf_counter() - began
            env = {"TOWPATH_DATABASE_URL": grown_url, **ENV}
            grown = (grown_url, await asyncio.to_thread(admin_key, env))
            line("migrations applied to the grown database", f"{upgraded:.1f} s")
        else:
            key, seconds = await grow(grown_url, args.runs)
            grown = (grown_url, key)
            line(f"filled {args.runs:,} runs, {STEPS} steps and 10 events each", f"{seconds:.0f} s")
        counted = await query(grown_url, "SELECT count(*) FROM runs")
        line(
            "runs in the grown database",
            f"{counted[0][0]:,}",
            f"{await size_mb(grown_url):,.0f} MB",
        )
        await measure_reads((small_url, small[0]), grown, args.requests, args.repeat)
        await measure_steps(grown_url, fresh, args.engine_runs, args.repeat)
        print(f"  load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        await fresh.drop(small_url)
        if args.keep or args.reuse:
            print(f"  kept: {grown_url}")
        else:
            await fresh.drop(grown_url)


if __name__ == "__main__":
    asyncio.run(main())
