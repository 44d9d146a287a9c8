"""A run's life: failing on a bad template, retrying, durable delays, cancelling."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx


def with_a_missing_variable() -> dict[str, Any]:
    """greet -> bill, whose template names `input.account`, which no run input has."""
    return {
        "nodes": [
            node("greet", "transform", {"output": {"text": "hi {{ input.name }}"}}),
            node("bill", "transform", {"output": {"to": "{{ input.account }}"}}),
            node("thank", "transform", {"output": {"said": "{{ greet.text }}"}}),
        ],
        "edges": [edge("greet", "bill"), edge("bill", "thank")],
    }


def delayed(seconds: float) -> dict[str, Any]:
    return {
        "nodes": [
            node("pause", "delay", {"seconds": seconds}),
            node("after", "transform", {"output": {"done": True}}),
        ],
        "edges": [edge("pause", "after")],
    }


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_missing_variable_fails_the_run_naming_it(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, with_a_missing_variable())
    run = await start(client, workflow_id, {"name": "Ada"})

    failed = await wait_for(client, run["id"], "completed", "failed")

    assert failed["status"] == "failed", failed
    assert "bill" in failed["error"]
    assert "account" in failed["error"]
    assert failed["context"] == {"greet": {"text": "hi Ada"}}
    steps = await steps_by_id(client, run["id"])
    assert steps["greet"]["status"] == "completed"
    assert steps["bill"]["status"] == "failed"
    assert "account" in steps["bill"]["error"]
    assert "thank" not in steps
    assert (await event_types(client, run["id"]))[-1] == "run.failed"


async def test_retry_runs_the_failed_step_again_and_keeps_the_completed_ones(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, with_a_missing_variable())
    run = await start(client, workflow_id, {"name": "Ada"})
    await wait_for(client, run["id"], "completed", "failed")
    before = await steps_by_id(client, run["id"])

    response = await client.post(f"{API}/runs/{run['id']}/retry")

    assert response.status_code == 200, response.text
    retried = response.json()
    assert retried["status"] == "running"
    assert retried["error"] is None
    assert retried["completed_at"] is None
    # The definition cannot change, so the same template fails the same way again.
    again = await wait_for(client, run["id"], "completed", "failed")
    assert again["status"] == "failed", again
    assert "account" in again["error"]
    after = await steps_by_id(client, run["id"])
    assert after["bill"]["attempt"] == before["bill"]["attempt"] + 1
    assert [a["attempt"] for a in after["bill"]["attempts"]] == [1, 2]
    assert after["bill"]["status"] == "failed"
    # The completed step kept its output and was not run again.
    assert after["greet"]["attempt"] == 1
    assert after["greet"]["completed_at"] == before["greet"]["completed_at"]
    assert after["greet"]["output"] == {"text": "hi Ada"}
    types = await event_types(client, run["id"])
    assert types.count("run.retried") == 1
    assert types.count("run.failed") == 2
    assert types.count("step.started") == 3


async def test_each_attempt_records_its_own_start(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, with_a_missing_variable())
    run = await start(client, workflow_id, {"name": "Ada"})
    await wait_for(client, run["id"], "failed")
    await client.post(f"{API}/runs/{run['id']}/retry")
    await wait_for(client, run["id"], "failed")

    first_try, second_try = (await steps_by_id(client, run["id"]))["bill"]["attempts"]

    assert at(first_try["started_at"]) <= at(first_try["ended_at"])
    # The second attempt began after the first had ended, and says so.
    assert at(second_try["started_at"]) >= at(first_try["ended_at"]), (first_try, second_try)


async def _parked(client: httpx.AsyncClient, run_id: str) -> None:
    """Until the delay has started and parked on its timer."""

    async def on_its_timer() -> bool:
        return "step.delayed" in await event_types(client, run_id)

    await eventually(on_its_timer, what="the delay parked")


async def test_a_delay_keeps_the_run_running_then_completes(client: httpx.AsyncClient) -> None:
    # Long enough that a loaded machine still reads the run before the delay ends.
    workflow_id = await publish(client, delayed(2))
    run = await start(client, workflow_id)

    await _parked(client, run["id"])
    during = (await client.get(f"{API}/runs/{run['id']}")).json()
    steps = await steps_by_id(client, run["id"])
    done = await wait_for(client, run["id"], "completed", "failed")

    assert during["status"] == "running"
    assert steps["pause"]["status"] == "queued"
    assert "after" not in steps
    assert done["status"] == "completed", done
    assert at(done["completed_at"]) - at(done["started_at"]) >= timedelta(seconds=2)
    steps = await steps_by_id(client, run["id"])
    waited_until = at(steps["pause"]["output"]["waited_until"])
    assert at(steps["after"]["started_at"]) >= waited_until
    assert waited_until - at(done["started_at"]) >= timedelta(seconds=2)
    # Parking on a timer is not another attempt.
    assert steps["pause"]["attempt"] == 1


async def test_a_run_cancelled_during_a_delay_stays_cancelled(client: httpx.AsyncClient) -> None:
    # Long enough that a loaded machine still cancels before the delay ends.
    workflow_id = await publish(client, delayed(2))
    run = await start(client, workflow_id)
    await _parked(client, run["id"])

    response = await client.post(f"{API}/runs/{run['id']}/cancel")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    types = await event_types(client, run["id"])
    # Past the delay's end and a worker poll: time must pass for a wake-up that should not come.
    await asyncio.sleep(2.5)
    later = (await client.get(f"{API}/runs/{run['id']}")).json()
    assert later["status"] == "cancelled"
    steps = await steps_by_id(client, run["id"])
    assert steps["pause"]["status"] == "cancelled"
    assert "after" not in steps
    assert await event_types(client, run["id"]) == types
    assert types[-1] == "run.cancelled"
