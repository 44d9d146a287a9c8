"""On PostgreSQL a `towpath worker` hears what other processes commit: a run started by
the API process is picked up at once, not at the next poll, and a cancel reaches a step
the worker is executing at once, not at the next lease renewal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.factories import node
from tests.runs import API, admin_headers, publish, wait_for
from tests.servers import _ServerThread
from tests.waiting import eventually
from towpath.app import create_app
from towpath.config import Settings
from towpath.events.listener import APPLICATION_NAME

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import Response


class HangingServer:
    """Holds every request open until its client leaves, noting when each came and went."""

    def __init__(self) -> None:
        self.arrived: list[float] = []
        self.left: list[float] = []

    async def hang(self, request: Request) -> Response:
        self.arrived.append(time.monotonic())
        while (await request.receive())["type"] != "http.disconnect":
            pass
        self.left.append(time.monotonic())
        return JSONResponse({}, 499)


@pytest.fixture
def hanging() -> Iterator[tuple[HangingServer, str]]:
    server = HangingServer()
    thread = _ServerThread(Starlette(routes=[Route("/hang", server.hang, methods=["POST"])]))
    thread.start()
    yield server, thread.url
    thread.stop()


@pytest.fixture
def slow_worker(database_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker that would poll only every 30 s and renew leases only every 20 s."""
    if not database_url.startswith("postgresql"):
        pytest.skip("workers in other processes share work through PostgreSQL")
    env = {
        **os.environ,
        "TOWPATH_DATABASE_URL": database_url,
        "TOWPATH_POLL_SECONDS": "30",
        "TOWPATH_LEASE_SECONDS": "60",
        "TOWPATH_STEP_ALLOWED_HOSTS": "127.0.0.0/8",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "towpath", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)


async def _worker_listening(app: FastAPI) -> bool:
    """The worker process has a connection of its own LISTENing for what others commit
    (this process's event listener, named in pg_stat_activity, does not count)."""
    async with app.state.db.read() as session:
        found: int = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query LIKE 'LISTEN %towpath_run_events%' AND application_name <> :ours"
            ),
            {"ours": APPLICATION_NAME},
        )
    return found > 0


async def test_a_worker_elsewhere_starts_at_once_and_stops_on_cancel(
    database_url: str,
    slow_worker: subprocess.Popen[bytes],
    hanging: tuple[HangingServer, str],
) -> None:
    server, url = hanging
    definition = {
        "nodes": [node("call", "http_request", {"method": "POST", "url": f"{url}/hang"})],
        "edges": [],
    }
    app = create_app(
        Settings(database_url=database_url, run_worker=False, step_allowed_hosts=["127.0.0.0/8"])
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as client:
            workflow_id = await publish(client, definition)
            # The worker is up: it claimed (nothing) from its pool before it opened the
            # connection that listens, and now polls only every 30 s.
            await eventually(lambda: _worker_listening(app), 90, "the worker listened")
            run = (await client.post(f"{API}/workflows/{workflow_id}/run", json={})).json()

            picked_up = await eventually(lambda: bool(server.arrived), 10, "the call arrived")
            cancelled = await client.post(f"{API}/runs/{run['id']}/cancel")
            assert cancelled.status_code == 200, cancelled.text
            stopped = await eventually(lambda: bool(server.left), 10, "the call was left")
            final = await wait_for(client, run["id"], "cancelled")

    assert slow_worker.poll() is None, "the worker is still running"
    # Well within the 30 s poll and the 20 s lease renewal the worker would otherwise wait.
    assert picked_up < 5
    assert stopped < 5
    assert final["status"] == "cancelled"
