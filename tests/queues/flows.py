"""Helpers for the queues' tests: a workflow with a task step, and the queue API's calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.runs import publish, start, wait_for_step

if TYPE_CHECKING:
    import httpx

API = "/api/v1"


def task_workflow(queue: str = "resize", **config: Any) -> dict[str, Any]:
    """start -> a task step on `queue` -> a transform that echoes its output."""
    task_config = {"queue": queue, "input": {"n": "{{ input.n }}"}, **config}
    return {
        "nodes": [
            {"id": "work", "type": "task", "data": {"config": task_config}},
            {
                "id": "after",
                "type": "transform",
                "data": {"config": {"output": {"got": "{{ work }}"}}},
            },
        ],
        "edges": [{"id": "e1", "source": "work", "target": "after"}],
    }


async def task_run(
    client: httpx.AsyncClient, queue: str = "resize", n: int = 1, **config: Any
) -> str:
    """A started run of a task step (a worker already polling may take it at once); its id."""
    workflow_id = await publish(client, task_workflow(queue, **config))
    run = await start(client, workflow_id, {"n": n})
    return str(run["id"])


async def waiting_task_run(
    client: httpx.AsyncClient, queue: str = "resize", n: int = 1, **config: Any
) -> str:
    """A started run whose task step waits for a worker; its id."""
    run_id = await task_run(client, queue, n, **config)
    await wait_for_step(client, run_id, "work", "waiting")
    return run_id


async def poll(
    client: httpx.AsyncClient, queue: str = "resize", **body: Any
) -> list[dict[str, Any]]:
    sent = {"worker_id": "w1", "wait_seconds": 0, **body}
    response = await client.post(f"{API}/queues/{queue}/poll", json=sent)
    assert response.status_code == 200, response.text
    tasks: list[dict[str, Any]] = response.json()["tasks"]
    return tasks


async def answer(
    client: httpx.AsyncClient, task: dict[str, Any], verb: str, **body: Any
) -> httpx.Response:
    url = f"{API}/queues/{task['queue']}/tasks/{task['task_id']}/{verb}"
    return await client.post(url, json={"lease_token": task["lease_token"], **body})
