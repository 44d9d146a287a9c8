"""Workspaces share the workers: one workspace's thousands of queued steps do not hold back
another workspace's next step; claims take from each workspace in turn."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select

from tests.factories import node
from tests.runs import admin_headers, publish, start, wait_for
from tests.waiting import eventually
from towpath.app import create_app
from towpath.engine.claim import claim_ready_steps
from towpath.engine.fair_share import Turns
from towpath.engine.lifecycle import start_run
from towpath.engine.run_io import flush_runs
from towpath.engine.sql import database_now
from towpath.services.api_keys import issue_workspace_key
from towpath.storage.models import Run, StepRun

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from tests.servers import EchoServer
    from towpath.config import Settings
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.engine.work import Work

QUEUED = 2000


def _calling(url: str) -> dict[str, Any]:
    return {"nodes": [node("call", "http_request", {"url": url})], "edges": []}


@asynccontextmanager
async def _workspaces(
    settings: Settings,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, httpx.AsyncClient]]:
    """A server and a client for each of two workspaces, A (busy) and B."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        issued = await issue_workspace_key(app.state.db, "b admin", "admin", workspace="b")
        b_headers = {"Authorization": f"Bearer {issued.plaintext}"}
        async with (
            httpx.AsyncClient(
                transport=transport, base_url="http://t", headers=await admin_headers(app)
            ) as a,
            httpx.AsyncClient(transport=transport, base_url="http://t", headers=b_headers) as b,
        ):
            yield app, a, b


async def _queue_runs(runtime: Runtime, workflow_id: str, count: int) -> None:
    """Start `count` runs in one transaction, their steps left queued for a claim."""
    d = runtime.driver.dialect

    def start_many() -> Gen[None]:
        workflow = yield from runtime.workflows.get(d, workflow_id)
        started: list[RunTransaction] = []
        for _ in range(count):
            limits = runtime.workflows.limits
            started.append((yield from start_run(d, workflow, {}, limits, write=False)))
        yield from flush_runs(d, started)

    await runtime.driver.run(start_many)


async def _claim(runtime: Runtime, limit: int, turns: Turns) -> list[Work]:
    d = runtime.driver.dialect

    def claim() -> Gen[list[Work]]:
        now = yield from database_now(d)
        claimed, _ = yield from claim_ready_steps(
            d, runtime.workflows, "w", limit, timedelta(minutes=5), now, turns=turns
        )
        return claimed

    return await runtime.driver.run(claim)


async def test_a_claim_takes_from_each_workspace_in_turn(
    settings: Settings, echo_server: EchoServer
) -> None:
    no_worker = settings.model_copy(update={"run_worker": False})
    async with _workspaces(no_worker) as (app, a, b):
        busy = await publish(a, _calling(f"{echo_server.url}/echo"))
        await _queue_runs(app.state.runtime, busy, QUEUED)
        b_workflow = await publish(b, _calling(f"{echo_server.url}/echo"))
        b_runs = {(await start(b, b_workflow))["id"] for _ in range(3)}

        batch = await _claim(app.state.runtime, 4, Turns())
        turns = Turns()
        one_by_one = [await _claim(app.state.runtime, 1, turns) for _ in range(3)]

    # Half the batch is B's, beside A's oldest: not after A's 2,000 queued before.
    assert len(batch) == 4
    assert sum(w.run_id in b_runs for w in batch) == 2
    # Claimed one at a time, the workspaces alternate, until B's last step is taken.
    taken = [[w.run_id in b_runs for w in claimed] for claimed in one_by_one]
    assert taken in ([[False], [True], [False]], [[True], [False], [False]])


async def test_a_busy_workspace_delays_anothers_step_by_a_bounded_number_of_claims(
    settings: Settings, echo_server: EchoServer
) -> None:
    # A worker with room for 4 steps, and 1,000 of workspace A's slow calls queued first.
    small = settings.model_copy(update={"worker_concurrency": 4, "poll_seconds": 0.05})
    async with _workspaces(small) as (app, a, b):
        busy = await publish(a, _calling(f"{echo_server.url}/slow?seconds=0.2"))
        await _queue_runs(app.state.runtime, busy, QUEUED // 2)
        await _steps_running(app, 4)
        b_run = (await start(b, await publish(b, _calling(f"{echo_server.url}/echo"))))["id"]
        done = await wait_for(b, b_run, "completed", "failed", seconds=30)
        async with app.state.db.read() as session:
            b_created = await session.scalar(select(Run.created_at).where(Run.id == b_run))
            b_started = await session.scalar(
                select(StepRun.started_at).where(StepRun.run_id == b_run)
            )
            ahead = list(
                await session.scalars(
                    select(StepRun.id).where(
                        StepRun.run_id != b_run,
                        StepRun.started_at > b_created,
                        StepRun.started_at < b_started,
                    )
                )
            )

    assert done["status"] == "completed", done["error"]
    # While B's step waited, at most one batch of A's steps was started: the worker's
    # room frees a step at a time, and B's turn comes at the next claim.
    assert len(ahead) <= 4


async def _steps_running(app: FastAPI, count: int) -> None:
    async def running() -> bool:
        async with app.state.db.read() as session:
            nth = await session.scalar(
                select(StepRun.id).where(StepRun.status == "running").offset(count - 1).limit(1)
            )
        return nth is not None

    await eventually(running, 15, f"{count} steps ran at once")


def test_a_batch_is_dealt_one_step_per_workspace_at_a_time() -> None:
    turns = Turns()

    assert turns.deal({"a": 64, "b": 1, "c": 2}, 6) == {"a": 3, "b": 1, "c": 2}
    # The next batch starts after the workspace served last ("a", the sixth step).
    assert turns.deal({"a": 64, "b": 64}, 5) == {"a": 2, "b": 3}
    assert turns.last == "b"
    assert [turns.deal({"a": 9, "b": 9}, 1) for _ in range(3)] == [{"a": 1}, {"b": 1}, {"a": 1}]
    assert turns.deal({"a": 1}, 8) == {"a": 1}
    assert turns.deal({}, 8) == {}
