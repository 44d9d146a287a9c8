"""A worker that lost the answer to its complete or fail sends it again with the same
`X-Idempotency-Key`: the first answer comes back, and the step changed once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.queues.flows import poll, waiting_task_run
from tests.runs import event_types, steps_by_id

if TYPE_CHECKING:
    import httpx


async def test_a_complete_sent_again_with_its_key_answers_as_the_first(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_task_run(client)
    [task] = await poll(client)
    url = f"/api/v1/queues/resize/tasks/{task['task_id']}/complete"
    body = {"lease_token": task["lease_token"], "output": {"n": 2}}
    once = {"X-Idempotency-Key": "resize-done-1"}

    first = await client.post(url, json=body, headers=once)
    again = await client.post(url, json=body, headers=once)
    unkeyed = await client.post(url, json=body)
    other = await client.post(url, json={**body, "output": {"n": 3}}, headers=once)

    assert first.status_code == 200, first.text
    assert again.status_code == 200
    assert again.json() == first.json()
    # Without the key the lease is simply over, as before.
    assert unkeyed.status_code == 409
    assert unkeyed.json()["error_code"] == "LEASE_STALE"
    assert other.status_code == 422
    assert other.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await steps_by_id(client, run_id))["work"]["output"] == {"n": 2}
    assert (await event_types(client, run_id)).count("task.completed") == 1


async def test_a_fail_sent_again_with_its_key_answers_as_the_first(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_task_run(client)
    [task] = await poll(client)
    url = f"/api/v1/queues/resize/tasks/{task['task_id']}/fail"
    body = {"lease_token": task["lease_token"], "error": "no disk", "retryable": False}
    once = {"X-Idempotency-Key": "resize-failed-1"}

    first = await client.post(url, json=body, headers=once)
    again = await client.post(url, json=body, headers=once)

    assert first.status_code == 200, first.text
    assert again.json() == first.json()
    assert (await event_types(client, run_id)).count("task.failed") == 1
