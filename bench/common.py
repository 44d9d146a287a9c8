"""Shared by the benchmarks: databases to run on, processes to start, figures to print."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from towpath.storage.database import Database
from towpath.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def chain(steps: int, step_type: str = "transform") -> dict[str, Any]:
    """`steps` no-op steps, one after the other."""
    config: dict[str, Any] = {"output": {}} if step_type == "transform" else {"seconds": 0.001}
    nodes = [
        {"id": f"s{i}", "type": step_type, "data": {"label": f"s{i}", "config": config}}
        for i in range(steps)
    ]
    edges = [{"id": f"e{i}", "source": f"s{i}", "target": f"s{i + 1}"} for i in range(steps - 1)]
    return {"nodes": nodes, "edges": edges}


def sqlite_url() -> str:
    return f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='towpath-bench-')}/bench.db"


async def fresh_postgres(base: str) -> str:
    """A new, empty database beside `base`; dropped by `drop_postgres`."""
    name = f"towpath_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(**_pg_args(base))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


async def drop_postgres(base: str, url: str) -> None:
    conn = await asyncpg.connect(**_pg_args(base))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


def _pg_args(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
    }


async def migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


def sqlite_floor(seconds: float = 2.0, synchronous: str = "FULL") -> float:
    """Committed single-row transactions per second, sqlite3 itself, WAL, same settings."""
    path = Path(tempfile.mkdtemp(prefix="towpath-floor-")) / "floor.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", ("x",))
        conn.execute("COMMIT")
        done += 1
    conn.close()
    return done / seconds


async def postgres_floor(url: str, seconds: float = 2.0) -> float:
    """Committed single-row transactions per second over one asyncpg connection."""
    conn = await asyncpg.connect(**_pg_args(url))
    try:
        await conn.execute("CREATE TEMP TABLE t (id SERIAL PRIMARY KEY, v TEXT)")
        done = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            async with conn.transaction():
                await conn.execute("INSERT INTO t (v) VALUES ($1)", "x")
            done += 1
    finally:
        await conn.close()
    return done / seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def towpath(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "towpath", *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def admin_key(env: dict[str, str]) -> str:
    """A new admin API key for the database `env` names (`towpath keys create`)."""
    created = subprocess.run(
        [sys.executable, "-m", "towpath", "keys", "create", "--role", "admin", "--name", "bench"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.strip()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_ready(base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"{base}/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{base} did not become ready")
            await asyncio.sleep(0.1)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<58} {value:>14}  {note}")
