"""Leases of queued tasks: a lease that runs out puts the task back with a new token, a
heartbeat keeps it, and a poll waits for a task put on the queue meanwhile."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from tests.queues.flows import answer, poll, waiting_task_run
from tests.runs import wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx

SHORTEST_LEASE = 5


async def test_a_lease_that_ran_out_goes_to_another_worker_with_a_new_token(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_task_run(client)
    [first] = await poll(client, worker_id="slow", lease_seconds=SHORTEST_LEASE)
    taken: list[dict[str, object]] = []

    async def released() -> bool:
        taken.extend(await poll(client, worker_id="quick"))
        return bool(taken)

    await eventually(released, SHORTEST_LEASE + 10, "the task leased again")
    [second] = taken
    late = await answer(client, first, "complete", output="slow")
    done = await answer(client, second, "complete", output="quick")

    assert second["task_id"] == first["task_id"]
    assert second["lease_token"] != first["lease_token"]
    assert second["attempt"] == first["attempt"]
    assert late.status_code == 409, late.text
    assert late.json()["error_code"] == "LEASE_STALE"
    assert late.json()["details"]["status"] == "leased"
    assert done.status_code == 200
    await wait_for(client, run_id, "completed")


async def test_a_heartbeat_keeps_the_lease_past_its_first_end(client: httpx.AsyncClient) -> None:
    await waiting_task_run(client)
    [task] = await poll(client, lease_seconds=SHORTEST_LEASE)
    began = time.monotonic()

    kept = await answer(client, task, "heartbeat", extend_seconds=60)
    # Past the first lease's end, another poller finds nothing to take.
    await asyncio.sleep(max(0.0, SHORTEST_LEASE + 0.5 - (time.monotonic() - began)))
    others = await poll(client, worker_id="other")
    done = await answer(client, task, "complete", output="kept")

    assert kept.status_code == 200, kept.text
    assert kept.json()["status"] == "leased"
    assert kept.json()["lease_expires_at"] > task["lease_expires_at"]
    assert others == []
    assert done.status_code == 200


async def test_a_poll_returns_as_soon_as_a_task_is_put_on_the_queue(
    client: httpx.AsyncClient,
) -> None:
    waiting = asyncio.create_task(poll(client, queue="later", wait_seconds=20))
    await asyncio.sleep(0)

    began = time.monotonic()
    run_id = await waiting_task_run(client, queue="later")
    tasks = await asyncio.wait_for(waiting, 20)

    assert [task["run_id"] for task in tasks] == [run_id]
    assert time.monotonic() - began < 15


async def test_a_poll_with_nothing_to_take_ends_empty_after_its_wait(
    client: httpx.AsyncClient,
) -> None:
    began = time.monotonic()

    tasks = await poll(client, queue="quiet", wait_seconds=0.5)

    assert tasks == []
    assert time.monotonic() - began >= 0.5
