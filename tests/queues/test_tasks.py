"""A `task` step's task, taken from its queue by a worker over the API and answered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.queues.flows import API, answer, poll, waiting_task_run
from tests.runs import steps_by_id, wait_for
from tests.tenants import other_workspace

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


async def test_a_polled_task_completed_completes_its_step_and_the_run(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_task_run(client, n=7)

    [task] = await poll(client)
    done = await answer(client, task, "complete", output={"size": 42})

    assert task["input"] == {"n": 7}
    assert task["run_id"] == run_id
    assert (task["step_id"], task["attempt"]) == ("work", 1)
    assert task["idempotency_key"] == f"{run_id}:work:1"
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["step_status"] == "completed"
    await wait_for(client, run_id, "completed")
    steps = await steps_by_id(client, run_id)
    assert steps["work"]["output"] == {"size": 42}
    assert steps["after"]["output"] == {"got": {"size": 42}}


async def test_completing_twice_is_refused_and_changes_nothing(client: httpx.AsyncClient) -> None:
    run_id = await waiting_task_run(client)
    [task] = await poll(client)
    first = await answer(client, task, "complete", output=1)

    again = await answer(client, task, "complete", output=2)

    assert first.status_code == 200
    assert again.status_code == 409, again.text
    assert again.json()["error_code"] == "LEASE_STALE"
    assert again.json()["details"]["status"] == "completed"
    assert (await steps_by_id(client, run_id))["work"]["output"] == 1


async def test_a_token_the_server_never_gave_is_refused(client: httpx.AsyncClient) -> None:
    await waiting_task_run(client)
    [task] = await poll(client)

    forged = await answer(client, {**task, "lease_token": "1.bm90LWEtdG9rZW4"}, "complete")
    shapeless = await answer(client, {**task, "lease_token": "nonsense"}, "heartbeat")

    assert forged.status_code == 403, forged.text
    assert forged.json()["error_code"] == "LEASE_TOKEN_INVALID"
    assert shapeless.status_code == 403
    assert (await answer(client, task, "complete", output=None)).status_code == 200


async def test_an_unknown_task_is_not_found(client: httpx.AsyncClient) -> None:
    fake = {"queue": "resize", "task_id": "no-such-task", "lease_token": "1.abc"}

    response = await answer(client, fake, "complete")

    assert response.status_code == 404
    assert response.json()["error_code"] == "TASK_NOT_FOUND"


async def test_a_retryable_failure_is_tried_again_as_a_new_task(client: httpx.AsyncClient) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0}
    run_id = await waiting_task_run(client, retry=retry)
    [first] = await poll(client)

    failed = await answer(client, first, "fail", error="disk full")
    [second] = await poll(client, wait_seconds=10)
    done = await answer(client, second, "complete", output="ok")

    assert failed.status_code == 200, failed.text
    assert failed.json()["step_status"] == "retrying"
    assert failed.json()["status"] == "failed"
    assert second["attempt"] == 2
    assert second["task_id"] != first["task_id"]
    assert second["idempotency_key"] == f"{run_id}:work:2"
    assert done.json()["step_status"] == "completed"
    await wait_for(client, run_id, "completed")
    # Each attempt's entry ends with its worker's answer, not with its wait.
    attempts = (await steps_by_id(client, run_id))["work"]["attempts"]
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [(1, "failed"), (2, "completed")]
    assert attempts[0]["error"] == "disk full"
    assert attempts[0]["task_id"] == first["task_id"]
    assert all(a["ended_at"] is not None for a in attempts)


async def test_a_failure_not_retryable_fails_the_step_and_the_run(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_task_run(client, retry={"max_attempts": 3, "backoff_seconds": 0})
    [task] = await poll(client)

    failed = await answer(client, task, "fail", error="bad image", retryable=False)

    assert failed.json()["step_status"] == "failed"
    run = await wait_for(client, run_id, "failed")
    assert "bad image" in run["error"]
    assert await poll(client) == []


async def test_a_cancelled_run_leaves_its_task_unleasable(client: httpx.AsyncClient) -> None:
    await waiting_task_run(client, queue="held")
    [task] = await poll(client, queue="held")
    other_run = await waiting_task_run(client, queue="held")

    await client.post(f"{API}/runs/{task['run_id']}/cancel")
    await client.post(f"{API}/runs/{other_run}/cancel")
    late = await answer(client, task, "complete", output=1)

    assert late.status_code == 409
    assert late.json()["details"]["status"] == "cancelled"
    assert await poll(client, queue="held") == []


async def test_a_step_past_its_timeout_fails_and_its_task_is_over(
    client: httpx.AsyncClient,
) -> None:
    # Long enough that a loaded machine still leases the task before the step times out.
    run_id = await waiting_task_run(client, timeout_seconds=3)
    [task] = await poll(client)

    run = await wait_for(client, run_id, "failed")
    late = await answer(client, task, "complete", output=1)

    assert (await steps_by_id(client, run_id))["work"]["status"] == "failed"
    assert "timeout" in run["error"]
    assert late.status_code == 409
    assert late.json()["details"]["status"] == "cancelled"


async def test_another_workspace_sees_none_of_the_tasks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await waiting_task_run(client)
    async with other_workspace(app) as neighbour:
        theirs = await poll(neighbour)
        await waiting_task_run(client)
        [task] = await poll(client)
        reached = await answer(neighbour, task, "complete", output="stolen")
        listed = (await neighbour.get(f"{API}/queues")).json()

    assert theirs == []
    assert reached.status_code == 404
    # Its own poll shows its (empty) queue; none of our tasks count in it.
    assert [(q["name"], q["ready"], q["leased"], q["workers"]) for q in listed] == [
        ("resize", 0, 0, 1)
    ]
