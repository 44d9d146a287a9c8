"""An attempt whose worker died stays in the step's history: `attempts` keeps it, marked
lost, with its worker, start and lease expiry, and an event says so; the attempt then runs
again as the same attempt, with the same idempotency key, and its entry says `rerun`."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select

from tests.factories import node
from tests.runs import API, admin_headers, publish, start, steps_by_id, wait_for, wait_for_step
from tests.waiting import eventually
from towpath.app import create_app
from towpath.engine.claim import claim_ready_steps
from towpath.engine.execute import execute_work
from towpath.engine.results import apply_results
from towpath.engine.sql import database_now
from towpath.steps.catalog import default_registry
from towpath.steps.services import engine_services
from towpath.storage.models import StepRun

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from tests.servers import EchoServer
    from towpath.config import Settings
    from towpath.engine.execute import Result
    from towpath.engine.results import Applied
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.work import Work
    from towpath.storage.database import Database


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """One server process's life: start, serve, stop."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://towpath.test", headers=headers
        ) as client:
            yield app, client


def _calling(url: str) -> dict[str, Any]:
    return {"nodes": [node("call", "http_request", {"url": url, "method": "POST"})], "edges": []}


async def _claim_as(runtime: Runtime, worker_id: str, lease: timedelta) -> list[Work]:
    d = runtime.driver.dialect

    def claim() -> Gen[list[Work]]:
        now = yield from database_now(d)
        claimed, _ = yield from claim_ready_steps(d, runtime.workflows, worker_id, 10, lease, now)
        return claimed

    return await runtime.driver.run(claim)


async def _record(runtime: Runtime, result: Result) -> Applied:
    d = runtime.driver.dialect

    def apply() -> Gen[Applied]:
        now = yield from database_now(d)
        return (yield from apply_results(d, runtime.workflows, [result], random.Random(), now))

    return await runtime.driver.run(apply)


async def _history(client: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = (await client.get(f"{API}/runs/{run_id}/events")).json()
    return [e for e in events if e["step_id"] == "call" and e["event_type"] != "step.log"]


async def test_a_lease_that_ran_out_leaves_its_attempt_in_the_history(
    settings: Settings, echo_server: EchoServer
) -> None:
    # A server without a worker: the step waits for a claim, and a worker that will
    # vanish takes it, with a lease that runs out at once.
    async with serving(settings.model_copy(update={"run_worker": False})) as (app, client):
        run_id = (await start(client, await publish(client, _calling(f"{echo_server.url}/echo"))))[
            "id"
        ]
        [work] = await _claim_as(app.state.runtime, "vanished", timedelta(0))
        # Its call reaches the outside world; its result never reaches the database.
        async with engine_services(settings) as services:
            late = await execute_work(work, default_registry(), services)

    async with serving(settings) as (app, client):
        done = await wait_for(client, run_id, "completed", "failed")
        # The vanished worker's result arrives at last: another holds the lease now.
        ignored = await _record(app.state.runtime, late)
        step = (await steps_by_id(client, run_id))["call"]
        history = await _history(client, run_id)

    assert done["status"] == "completed", done["error"]
    assert [e.event_type for e in ignored.changed[0].events] == []
    key = f"{run_id}:call:1"
    assert [r.headers["idempotency-key"] for r in echo_server.requests] == [key, key]
    assert step["attempt"] == 1
    lost, rerun = step["attempts"]
    assert lost["outcome"] == "lost"
    assert (lost["attempt"], lost["idempotency_key"], lost["worker"]) == (1, key, "vanished")
    assert lost["started_at"] is not None
    assert lost["lease_expired_at"] is not None
    assert lost["ended_at"] is None  # nobody knows when, or whether, its call ended
    assert rerun["outcome"] == "completed"
    assert (rerun["attempt"], rerun["idempotency_key"], rerun["rerun"]) == (1, key, True)
    assert rerun["worker"] != "vanished"
    assert [e["event_type"] for e in history] == [
        "step.queued",
        "step.started",
        "step.attempt_lost",
        "step.started",
        "step.completed",
    ]
    said = history[2]["data"]
    assert (said["attempt"], said["idempotency_key"], said["worker"]) == (1, key, "vanished")
    assert said["lease_expired_at"] == lost["lease_expired_at"]
    assert history[3]["data"]["reclaimed_from"] == "vanished"


async def _in_flight(client: httpx.AsyncClient, echo_server: EchoServer, run_id: str) -> None:
    await wait_for_step(client, run_id, "call", "running")
    await eventually(lambda: bool(echo_server.requests), 15, "the call went out")


async def test_a_call_handed_back_by_a_stopping_worker_is_kept_as_interrupted(
    settings: Settings, echo_server: EchoServer
) -> None:
    quick = settings.model_copy(update={"shutdown_grace_seconds": 0.1})
    definition = _calling(f"{echo_server.url}/stall/{{{{ run.id }}}}")
    async with serving(quick) as (_, client):
        run_id = (await start(client, await publish(client, definition)))["id"]
        await _in_flight(client, echo_server, run_id)

    async with serving(settings) as (_, client):
        done = await wait_for(client, run_id, "completed", "failed")
        step = (await steps_by_id(client, run_id))["call"]

    assert done["status"] == "completed", done["error"]
    key = f"{run_id}:call:1"
    interrupted, rerun = step["attempts"]
    assert (interrupted["outcome"], interrupted["idempotency_key"]) == ("interrupted", key)
    assert interrupted["reason"] == "the worker stopped"
    assert interrupted["ended_at"] is not None
    assert (rerun["outcome"], rerun["idempotency_key"], rerun["rerun"]) == ("completed", key, True)


async def test_a_call_stopped_by_a_cancel_is_kept_as_cancelled(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    definition = _calling(f"{echo_server.url}/stall/{{{{ run.id }}}}")
    run_id = (await start(client, await publish(client, definition)))["id"]
    await _in_flight(client, echo_server, run_id)

    cancelled = await client.post(f"{API}/runs/{run_id}/cancel", json={})
    step = (await steps_by_id(client, run_id))["call"]

    assert cancelled.status_code == 200, cancelled.text
    [entry] = step["attempts"]
    assert (entry["outcome"], entry["attempt"]) == ("cancelled", 1)
    assert entry["idempotency_key"] == f"{run_id}:call:1"
    assert entry["started_at"] is not None


# --- a worker process killed mid-call -----------------------------------------------------

RUNS = 6


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TOWPATH_DATABASE_URL": database_url,
        "TOWPATH_LEASE_SECONDS": "2",
        "TOWPATH_POLL_SECONDS": "0.1",
        "TOWPATH_STEP_ALLOWED_HOSTS": "127.0.0.0/8",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "towpath", "worker", "--concurrency", "16"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _lease_owners(db: Database) -> set[str | None]:
    async with db.read() as session:
        return set(await session.scalars(select(StepRun.lease_owner)))


async def _calls_in_flight(echo_server: EchoServer, count: int) -> None:
    # The worker process starts first: a loaded machine may take a while to start one.
    await eventually(lambda: len(echo_server.requests) >= count, 90, f"{count} calls arrived")


async def test_calls_cut_off_by_a_killed_worker_are_kept_and_sent_again_as_themselves(
    settings: Settings, echo_server: EchoServer
) -> None:
    # Each run's call stalls the first time, until its caller goes away.
    definition = _calling(f"{echo_server.url}/stall/{{{{ run.id }}}}")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        async with serving(settings.model_copy(update={"run_worker": False})) as (app, client):
            workflow_id = await publish(client, definition)
            run_ids = [(await start(client, workflow_id))["id"] for _ in range(RUNS)]
            workers.append(_worker(settings.database_url))
            await _calls_in_flight(echo_server, RUNS)
            [killed] = await _lease_owners(app.state.db)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            workers.append(_worker(settings.database_url))
            finished = [
                await wait_for(client, r, "completed", "failed", seconds=60) for r in run_ids
            ]
            steps = [(await steps_by_id(client, r))["call"] for r in run_ids]
            histories = [await _history(client, r) for r in run_ids]
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)

    assert [run["status"] for run in finished] == ["completed"] * RUNS
    for run_id, step, history in zip(run_ids, steps, histories, strict=True):
        key = f"{run_id}:call:1"
        sent = [r.headers["idempotency-key"] for r in echo_server.requests if run_id in r.path]
        # The call the killed worker made is sent once more, as the same attempt.
        assert sent == [key, key]
        lost, rerun = step["attempts"]
        assert (lost["outcome"], lost["worker"], lost["idempotency_key"]) == ("lost", killed, key)
        assert (rerun["outcome"], rerun["idempotency_key"], rerun["rerun"]) == (
            "completed",
            key,
            True,
        )
        assert rerun["worker"] != killed
        lost_events = [e for e in history if e["event_type"] == "step.attempt_lost"]
        assert [e["data"]["worker"] for e in lost_events] == [killed]
