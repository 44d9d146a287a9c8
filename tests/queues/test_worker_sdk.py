"""`towpath.worker` against the app: functions complete tasks, an exception fails one, and
a worker stopped mid-task gives the task back for another attempt."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.queues.flows import task_run, waiting_task_run
from tests.runs import publish, start, steps_by_id, wait_for
from tests.waiting import eventually
from towpath.worker import TaskContext, Worker

if TYPE_CHECKING:
    import pytest
    from fastapi import FastAPI

EXAMPLE = Path(__file__).parents[2] / "examples" / "task-worker"


def _worker(app: FastAPI, headers: dict[str, str], **options: Any) -> Worker:
    key = headers["Authorization"].removeprefix("Bearer ")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return Worker("http://towpath.test", key, "sdk", wait_seconds=1, transport=transport, **options)


async def test_functions_complete_their_tasks_and_an_exception_fails_one(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    worker = _worker(app, auth_headers)
    seen: list[int] = []

    @worker.task("resize")
    def double(task_input: dict[str, Any], context: TaskContext) -> dict[str, Any]:
        seen.append(context.attempt)
        if task_input["n"] < 0:
            raise ValueError("negative sizes are not allowed")
        return {"doubled": task_input["n"] * 2}

    running = asyncio.create_task(worker.arun())
    # The worker is polling: a step may be done before anyone sees it waiting.
    good = await task_run(client, n=4)
    bad = await task_run(client, n=-1)
    done = await wait_for(client, good, "completed")
    failed = await wait_for(client, bad, "failed")
    worker.stop()
    await asyncio.wait_for(running, 10)

    assert done["status"] == "completed"
    assert (await steps_by_id(client, good))["work"]["output"] == {"doubled": 8}
    assert "negative sizes are not allowed" in failed["error"]
    assert seen == [1, 1]


async def test_a_stopped_worker_gives_back_the_task_it_could_not_finish(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    worker = _worker(app, auth_headers, grace_seconds=0.2)
    started = asyncio.Event()

    @worker.task("resize")
    async def never_done(task_input: Any) -> Any:
        started.set()
        await asyncio.Event().wait()

    run_id = await waiting_task_run(client, retry={"max_attempts": 2, "backoff_seconds": 0})
    running = asyncio.create_task(worker.arun())
    await asyncio.wait_for(started.wait(), 20)
    worker.stop()
    await asyncio.wait_for(running, 10)

    # Given back as retryable: the step's next attempt is a new task on the queue.
    async def next_attempt() -> bool:
        step = (await steps_by_id(client, run_id))["work"]
        return bool(step["status"] == "waiting" and step["attempt"] == 2)

    await eventually(next_attempt, 20, "the step's second attempt waiting")


async def test_the_example_workflow_and_worker_run_end_to_end(
    app: FastAPI,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOWPATH_API_KEY", "unused: the test's worker brings its own")
    spec = importlib.util.spec_from_file_location("example_worker", EXAMPLE / "worker.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    worker = _worker(app, auth_headers)
    worker.task("images")(example.resize)
    body = json.loads((EXAMPLE / "workflow.json").read_text())
    workflow_id = await publish(
        client, body["definition"], name=body["name"], input_schema=body["input_schema"]
    )

    running = asyncio.create_task(worker.arun())
    run = await start(client, workflow_id, {"url": "https://example.com/cat.png", "width": 64})
    done = await wait_for(client, run["id"], "completed", "failed")
    worker.stop()
    await asyncio.wait_for(running, 10)

    assert done["status"] == "completed", done["error"]
    thumbnail = (await steps_by_id(client, run["id"]))["report"]["output"]["thumbnail"]
    assert thumbnail == f"https://cdn.example.com/{run['id']}-resize-1-64.png"
