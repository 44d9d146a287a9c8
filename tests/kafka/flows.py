"""A workflow whose task step waits on the bridge's queue, and what a test reads of its run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.runs import publish, start, wait_for_step

if TYPE_CHECKING:
    import httpx


def task_workflow(queue: str, **config: Any) -> dict[str, Any]:
    """A task step on `queue`, handed the run's `n`, then a transform that echoes its output."""
    task_config = {"queue": queue, "input": {"n": "{{ input.n }}"}, **config}
    echo = {"output": {"got": "{{ work }}"}}
    return {
        "nodes": [
            {"id": "work", "type": "task", "data": {"config": task_config}},
            {"id": "after", "type": "transform", "data": {"config": echo}},
        ],
        "edges": [{"id": "e1", "source": "work", "target": "after"}],
    }


async def waiting_task_run(client: httpx.AsyncClient, queue: str, n: int = 1, **config: Any) -> str:
    """A started run whose task step waits for a worker; its id."""
    workflow_id = await publish(client, task_workflow(queue, **config))
    run = await start(client, workflow_id, {"n": n})
    await wait_for_step(client, run["id"], "work", "waiting")
    return str(run["id"])
