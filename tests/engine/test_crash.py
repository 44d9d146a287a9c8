"""Two `towpath worker` processes on PostgreSQL; one is killed mid-run. Every run still
completes, and no completed step runs again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import select

from tests.factories import edge, node
from tests.runs import API, admin_headers, publish, wait_for
from tests.waiting import eventually
from towpath.app import create_app
from towpath.config import Settings
from towpath.storage.models import StepRun

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.servers import EchoServer
    from towpath.storage.database import Database

STEPS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TOWPATH_DATABASE_URL": url,
        "TOWPATH_LEASE_SECONDS": "2",
        "TOWPATH_POLL_SECONDS": "0.1",
        # The echo server the steps call listens on loopback.
        "TOWPATH_STEP_ALLOWED_HOSTS": "127.0.0.0/8",
        "TOWPATH_HOST": "127.0.0.1",
    }
    command = ["worker", "--concurrency", "8", "--metrics-port", str(port)]
    return subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "towpath", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _workers_ready(ports: list[int]) -> None:
    """A worker serves /health once its engine claims work: runs started before then
    could all be finished by the first worker up, leaving none for the kill to cut off."""

    async def answers(client: httpx.AsyncClient, port: int) -> bool:
        try:
            return (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200
        except httpx.TransportError:
            return False

    async def all_answer() -> bool:
        async with httpx.AsyncClient(timeout=10) as client:
            return all([await answers(client, port) for port in ports])

    # A loaded machine (a CI runner, say) may take a while to start a process.
    await eventually(all_answer, 90, "both workers answered /health")


async def _both_workers_busy(db: Database) -> None:
    """Wait until each worker holds a lease, so the kill interrupts steps in flight."""

    async def both() -> bool:
        async with db.read() as session:
            owners = set(
                await session.scalars(
                    select(StepRun.lease_owner).where(StepRun.status == "running")
                )
            )
        return len(owners - {None}) == 2

    await eventually(both, 30, "the two workers both held work")


@pytest.fixture
def worker_ports() -> list[int]:
    return [_free_port(), _free_port()]


@pytest.fixture
def workers(database_url: str, worker_ports: list[int]) -> Iterator[list[subprocess.Popen[bytes]]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("many worker processes share work through PostgreSQL")
    started = [_worker(database_url, port) for port in worker_ports]
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


async def test_runs_survive_a_killed_worker(
    database_url: str,
    workers: list[subprocess.Popen[bytes]],
    worker_ports: list[int],
    echo_server: EchoServer,
) -> None:
    app = create_app(Settings(database_url=database_url, run_worker=False))
    nodes = [
        node(f"s{i}", "http_request", {"url": f"{echo_server.url}/slow?seconds=0.15"})
        for i in range(STEPS)
    ]
    edges = [edge(f"s{i}", f"s{i + 1}") for i in range(STEPS - 1)]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as client:
            workflow_id = await publish(client, {"nodes": nodes, "edges": edges})
            await _workers_ready(worker_ports)
            runs = [
                (await client.post(f"{API}/workflows/{workflow_id}/run", json={})).json()["id"]
                for _ in range(12)
            ]
            await _both_workers_busy(app.state.db)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            finished = [
                await wait_for(client, run_id, "completed", "failed", seconds=60) for run_id in runs
            ]
            histories = [
                (await client.get(f"{API}/runs/{run_id}/events")).json() for run_id in runs
            ]

    assert [run["status"] for run in finished] == ["completed"] * len(runs)
    started = Counter(
        (i, e["step_id"])
        for i, history in enumerate(histories)
        for e in history
        if e["event_type"] == "step.started"
    )
    reclaimed = [key for key, n in started.items() if n > 1]
    # The killed worker held leases: its steps were taken over by the other worker.
    assert reclaimed, "no step was taken over after the kill"
    takeovers = [
        e["data"]["reclaimed_from"]
        for history in histories
        for e in history
        if e["event_type"] == "step.started" and "reclaimed_from" in e["data"]
    ]
    # Each takeover names the worker whose lease ran out: the one that was killed.
    assert len(takeovers) == len(reclaimed)
    assert len(set(takeovers)) == 1
    for history in histories:
        completed_at: dict[str, int] = {}
        for event in history:
            step = event["step_id"]
            if event["event_type"] == "step.completed":
                assert step not in completed_at, f"{step} completed twice"
                completed_at[step] = event["seq"]
            if event["event_type"] == "step.started":
                assert step not in completed_at, f"{step} started again after it completed"
        assert len(completed_at) == STEPS
    # A step taken over runs again with the same idempotency key; none ran 3 times.
    calls = Counter(r.headers["idempotency-key"] for r in echo_server.requests)
    assert max(calls.values()) <= 2
    assert all(key.endswith(":1") for key in calls)
    assert len(calls) == len(runs) * STEPS
