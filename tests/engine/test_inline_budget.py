"""Pure steps run inside the write transaction that made them ready only while it has
template time left: slow templates go to a worker instead of holding the writer, and
fast workflows still run whole inside their start."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.factories import edge, node
from tests.runs import admin_headers, event_types, publish, start, steps_by_id, wait_for
from towpath.app import create_app
from towpath.config import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# About a quarter of a second of rendering here: far past an inline step's share of a
# transaction, well within a worker's second.
SLOW = "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}done"
PARALLEL = 20


def _parallel(template: str) -> dict[str, Any]:
    nodes = [node(f"t{i}", "transform", {"output": {"v": template}}) for i in range(PARALLEL)]
    return {"nodes": nodes, "edges": []}


class WriteLockProbe:
    """Another connection taking SQLite's write lock again and again, as a second
    workspace's writes do, noting how long each wait for it took."""

    def __init__(self, path: str) -> None:
        self.waits: list[float] = []
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def __enter__(self) -> WriteLockProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _probe(self) -> None:
        conn = sqlite3.connect(self._path, timeout=60, isolation_level=None)
        try:
            while not self._stop.wait(0.002):
                began = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                self.waits.append(time.perf_counter() - began)
                conn.execute("COMMIT")
        finally:
            conn.close()


async def _until_ended(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    return await wait_for(client, run_id, "completed", "failed", seconds=60)


async def test_slow_templates_leave_the_writer_to_others_and_still_run(
    client: httpx.AsyncClient, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time; PostgreSQL locks rows, not the database")
    workflow_id = await publish(client, _parallel(SLOW))

    with WriteLockProbe(database_url.split("///", 1)[1]) as probe:
        started = await start(client, workflow_id)
        run = await _until_ended(client, started["id"])

    # All inline, the run's start held the writer for ~5 s: 20 renders of ~0.25 s each.
    # A few tens of milliseconds on a quiet machine; the bound leaves room for a busy one.
    assert max(probe.waits) < 1.0, sorted(probe.waits)[-5:]
    steps = await steps_by_id(client, run["id"])
    assert len(steps) == PARALLEL
    for step in steps.values():
        # A loaded machine may render past the worker's 1 s limit: a clear failure then,
        # and the run's other steps are cancelled.
        failed = step["status"] == "failed" and "took longer than" in step["error"]
        assert step["status"] in ("completed", "cancelled") or failed, step
    if run["status"] == "completed":
        assert {s["output"]["v"] for s in steps.values()} == {"done"}


async def test_long_templates_are_compiled_outside_the_writer(
    client: httpx.AsyncClient, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time; PostgreSQL locks rows, not the database")
    # Compiling one takes about a third of a second; each is new to the process.
    long = [f"{i}:" + "{{ input.x }}-" * 500 for i in range(5)]
    nodes = [node(f"t{i}", "transform", {"output": {"v": text}}) for i, text in enumerate(long)]
    workflow_id = await publish(client, {"nodes": nodes, "edges": []})

    with WriteLockProbe(database_url.split("///", 1)[1]) as probe:
        started = await start(client, workflow_id, {"x": 1})
        run = await _until_ended(client, started["id"])

    # A few tens of milliseconds on a quiet machine; the bound leaves room for a busy one
    # and is still short of the ~1.7 s that compiling all five in the writer would take.
    assert max(probe.waits) < 1.0, sorted(probe.waits)[-5:]
    assert run["status"] == "completed"
    steps = await steps_by_id(client, run["id"])
    assert steps["t0"]["output"] == {"v": "0:" + "1-" * 500}


async def test_a_fast_workflow_still_runs_whole_inside_its_start(
    client: httpx.AsyncClient,
) -> None:
    fast = _parallel("{{ input.name | upper }}")
    fast["nodes"].append(node("join", "transform", {"output": {"first": "{{ t0.v }}"}}))
    fast["edges"] = [edge(f"t{i}", "join") for i in range(PARALLEL)]
    workflow_id = await publish(client, fast)

    run = await start(client, workflow_id, {"name": "ada"})

    assert run["status"] == "completed", run
    steps = await steps_by_id(client, run["id"])
    assert steps["join"]["output"] == {"first": "ADA"}


async def test_a_step_rendering_past_the_workers_limit_fails_saying_so(
    client: httpx.AsyncClient,
) -> None:
    endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    workflow_id = await publish(
        client, {"nodes": [node("slow", "transform", {"output": {"v": endless}})], "edges": []}
    )

    run = await start(client, workflow_id)

    assert run["status"] == "running"  # the start did not wait for the render
    ended = await _until_ended(client, run["id"])
    assert ended["status"] == "failed"
    step = (await steps_by_id(client, run["id"]))["slow"]
    assert "rendering took longer than 1s" in step["error"]


@pytest.fixture
async def api_without_worker(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, run_worker=False)
    api = create_app(settings)
    async with api.router.lifespan_context(api):
        headers = await admin_headers(api)
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://towpath.test", headers=headers
        ) as client:
            yield client


async def test_without_a_worker_a_slow_step_is_left_queued_for_one(
    api_without_worker: httpx.AsyncClient, database_url: str
) -> None:
    workflow_id = await publish(api_without_worker, _parallel(SLOW))

    run = await start(api_without_worker, workflow_id)

    steps = await steps_by_id(api_without_worker, run["id"])
    assert {s["status"] for s in steps.values()} == {"queued"}
    # One step was tried and handed back; no other was leased.
    assert (await event_types(api_without_worker, run["id"])).count("step.started") == 1
    worker = create_app(Settings(database_url=database_url))
    async with worker.router.lifespan_context(worker):
        ended = await _until_ended(api_without_worker, run["id"])
    assert ended["status"] in ("completed", "failed")
