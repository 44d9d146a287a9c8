"""Pausing one run: steps in flight finish and are recorded, what they make ready is held,
timers keep their due times and fire once the run is unpaused.

The app here has no worker, so nothing but the test starts a step that needs one: a held
step that a claim could see would be claimed by the test's own claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for, wait_for_step
from tests.steering.conftest import approval, decide, waiting_run
from towpath.config import Settings
from towpath.domain.clock import utcnow
from towpath.engine.claim import claim_ready_steps
from towpath.engine.execute import Result
from towpath.engine.results import apply_results
from towpath.engine.timers import expire_due
from towpath.steps.common import SINGLE_ATTEMPT, RetryPolicy
from towpath.steps.execution import Completed, Failed

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.engine.runtime import Runtime
    from towpath.engine.work import Work
    from towpath.steps.execution import Outcome


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        run_worker=False,
        step_allowed_hosts=["127.0.0.0/8"],
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
    )


async def _pause(
    client: httpx.AsyncClient, run_id: str, body: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    return await client.post(f"{API}/runs/{run_id}/pause", json=body, headers=headers)


async def _unpause(client: httpx.AsyncClient, run_id: str, **headers: str) -> httpx.Response:
    return await client.post(f"{API}/runs/{run_id}/unpause", headers=headers)


async def _timer(app: FastAPI, seconds: float) -> None:
    """One pass of the timers, as if `seconds` had gone by."""
    runtime: Runtime = app.state.runtime
    d = runtime.driver.dialect
    later = utcnow() + timedelta(seconds=seconds)
    runtime.announce(await runtime.driver.run(lambda: expire_due(d, runtime.workflows, later, 9)))


async def _claim(app: FastAPI, seconds: float) -> list[Work]:
    """What a worker's claim takes, as if `seconds` had gone by."""
    runtime: Runtime = app.state.runtime
    d = runtime.driver.dialect
    later = utcnow() + timedelta(seconds=seconds)
    lease = timedelta(seconds=30)
    works, _ = await runtime.driver.run(
        lambda: claim_ready_steps(d, runtime.workflows, "test-worker", 10, lease, later)
    )
    return works


async def test_a_timer_due_while_paused_fires_once_unpaused_at_its_own_time(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    definition = {
        "nodes": [
            node("wait", "delay", {"seconds": 600}),
            node("after", "transform", {"output": {"done": True}}),
        ],
        "edges": [edge("wait", "after")],
    }
    run = await start(client, await publish(client, definition))
    await wait_for_step(client, run["id"], "wait", "queued")

    paused = await _pause(client, run["id"], {"reason": "maintenance"})
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    assert (await steps_by_id(client, run["id"]))["wait"]["status"] == "held"
    view = (await client.get(f"{API}/runs/{run['id']}")).json()
    assert view["step_counts"]["held"] == 1
    assert [(w["step_id"], w["waits_for"]) for w in view["steps_waiting"]] == [("wait", "unpause")]
    events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
    [event] = [e["data"] for e in events if e["event_type"] == "run.paused"]
    assert event["paused_by"] and event["reason"] == "maintenance"
    assert await _claim(app, 700) == []  # due, but held

    unpaused = await _unpause(client, run["id"])
    assert unpaused.status_code == 200, unpaused.text
    assert unpaused.json()["status"] == "running"
    assert (await steps_by_id(client, run["id"]))["wait"]["status"] == "queued"
    assert await _claim(app, 590) == []  # its due time was kept, not pushed back
    [resumed] = await _claim(app, 700)
    assert resumed.step_id == "wait"
    assert "run.unpaused" in await event_types(client, run["id"])


async def test_a_waiting_step_and_the_run_deadline_wait_for_the_unpause(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    definition = {**approval(timeout_seconds=3600, on_timeout="reject"), "timeout_seconds": 7200}
    run = await start(client, await publish(client, definition))
    run_id = run["id"]
    await wait_for(client, run_id, "waiting")
    assert (await _pause(client, run_id)).status_code == 200
    await _timer(app, 8000)
    assert (await client.get(f"{API}/runs/{run_id}")).json()["status"] == "paused"
    assert (await steps_by_id(client, run_id))["review"]["status"] == "waiting"

    unpaused = await _unpause(client, run_id)
    assert unpaused.json()["status"] == "waiting"  # back to what it was doing
    # Each timer is due at its own time, as if the run had never been paused.
    await _timer(app, 3605)
    review = (await steps_by_id(client, run_id))["review"]
    assert (review["status"], review["handle"]) == ("completed", "rejected")
    await _timer(app, 7205)
    failed = await wait_for(client, run_id, "failed")
    assert failed["error"] == "the run took longer than its timeout"


async def test_an_answer_while_paused_is_recorded_and_what_follows_is_held(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_run(client)
    assert (await _pause(client, run_id)).status_code == 200
    answered = await decide(client, run_id, None, {"approved": True})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "paused"
    steps = await steps_by_id(client, run_id)
    assert steps["review"]["status"] == "completed"
    assert steps["after"]["status"] == "held"

    assert (await _unpause(client, run_id)).status_code == 200
    done = await wait_for(client, run_id, "completed")
    assert done["context"]["after"] == {"shipped": True}


async def test_a_deadline_due_while_paused_comes_before_an_answer_given_since(
    client: httpx.AsyncClient,
) -> None:
    definition = {**approval(), "timeout_seconds": 0.5}
    run = await start(client, await publish(client, definition))
    await wait_for(client, run["id"], "waiting")
    assert (await _pause(client, run["id"])).status_code == 200
    await asyncio.sleep(0.7)
    answered = await decide(client, run["id"], None, {"approved": True})
    assert answered.status_code == 200, answered.text

    unpaused = await _unpause(client, run["id"])

    # The deadline fell due first, at its own time: the run ends as its timer ends it.
    assert unpaused.status_code == 200, unpaused.text
    assert unpaused.json()["status"] == "failed"
    assert unpaused.json()["error"] == "the run took longer than its timeout"
    assert (await steps_by_id(client, run["id"]))["after"]["status"] == "cancelled"


async def _finish(
    app: FastAPI, work: Work, outcome: Outcome, retry: RetryPolicy = SINGLE_ATTEMPT
) -> None:
    """A worker's result for `work`, applied as a worker applies it."""
    runtime: Runtime = app.state.runtime
    d = runtime.driver.dialect
    result = Result(work, outcome, retry, [])
    continuation = runtime.continuation()
    applied = await runtime.driver.run(
        lambda: apply_results(
            d, runtime.workflows, [result], runtime.rng, continuation=continuation
        )
    )
    runtime.committed(applied)


async def test_a_pause_racing_a_step_completion_holds_the_next_step(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    call = {"url": "http://127.0.0.1:9/x"}
    definition = {
        "nodes": [node("work", "http_request", call), node("after", "http_request", call)],
        "edges": [edge("work", "after")],
    }
    workflow_id = await publish(client, definition)
    # Each order in turn, then both at once: every one ends the same way.
    for order in ("finish first", "pause first", "at once", "at once", "at once"):
        run = await start(client, workflow_id)
        [work] = await _claim(app, 0)
        finish = _finish(app, work, Completed({"ok": True}))
        if order == "finish first":
            await finish
        pausing = _pause(client, run["id"])
        if order == "at once":
            _, paused = await asyncio.gather(finish, pausing)
        else:
            paused = await pausing
        if order == "pause first":
            await finish
        assert paused.status_code == 200, paused.text
        steps = await steps_by_id(client, run["id"])
        assert steps["work"]["status"] == "completed"
        assert steps["work"]["output"] == {"ok": True}
        assert steps["after"]["status"] == "held"
        assert await _claim(app, 1) == []
        types = await event_types(client, run["id"])
        assert types.count("run.paused") == 1
        assert types.count("step.completed") == 1

        assert (await _unpause(client, run["id"])).status_code == 200
        assert (await steps_by_id(client, run["id"]))["after"]["status"] == "queued"
        [claimed] = await _claim(app, 1)
        assert claimed.step_id == "after"


async def test_a_retry_held_by_a_pause_is_still_a_retry(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    config = {"url": "http://127.0.0.1:9/x", "retry": {"max_attempts": 2}}
    run = await start(
        client, await publish(client, {"nodes": [node("work", "http_request", config)]})
    )
    [work] = await _claim(app, 0)
    assert (await _pause(client, run["id"])).status_code == 200
    await _finish(app, work, Failed("busy", kind="5xx"), RetryPolicy(max_attempts=2))
    step = (await steps_by_id(client, run["id"]))["work"]
    assert (step["status"], step["attempt"]) == ("held", 1)

    assert (await _unpause(client, run["id"])).status_code == 200
    assert (await steps_by_id(client, run["id"]))["work"]["status"] == "retrying"
    [claimed] = await _claim(app, 3600)
    assert claimed.attempt == 2


async def test_a_loop_item_ending_while_paused_holds_the_next_item(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    inner = {"type": "http_request", "config": {"url": "http://127.0.0.1:9/x"}}
    config = {"items": "{{ input.items }}", "step": inner, "concurrency": 1}
    workflow_id = await publish(client, {"nodes": [node("each", "for_each", config)]})
    run = await start(client, workflow_id, {"items": ["a", "b"]})
    [first] = await _claim(app, 0)
    assert (await _pause(client, run["id"])).status_code == 200
    await _finish(app, first, Completed("A"))
    items = (await client.get(f"{API}/runs/{run['id']}/steps")).json()
    assert {s["item_index"]: s["status"] for s in items if s["item_index"] is not None} == {
        0: "completed",
        1: "held",
    }
    assert await _claim(app, 1) == []

    assert (await _unpause(client, run["id"])).status_code == 200
    [second] = await _claim(app, 1)
    assert (second.step_id, second.item_index) == ("each", 1)


async def test_two_pauses_at_once_make_one_and_the_other_gets_the_state(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_run(client)
    first, second = await asyncio.gather(_pause(client, run_id), _pause(client, run_id))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = (first if first.status_code == 409 else second).json()
    assert loser["error_code"] == "INVALID_RUN_STATE"
    assert loser["details"]["status"] == "paused"
    assert (await event_types(client, run_id)).count("run.paused") == 1


async def test_a_repeated_key_answers_the_first_pause_again(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client)
    first = await _pause(client, run_id, {"reason": "r"}, **{"X-Idempotency-Key": "p-1"})
    again = await _pause(client, run_id, {"reason": "r"}, **{"X-Idempotency-Key": "p-1"})
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json()["status"] == "paused"
    other = await _pause(client, run_id, {"reason": "other"}, **{"X-Idempotency-Key": "p-1"})
    assert other.status_code == 422

    for _ in range(2):
        unpaused = await _unpause(client, run_id, **{"X-Idempotency-Key": "u-1"})
        assert unpaused.status_code == 200, unpaused.text
    types = await event_types(client, run_id)
    assert (types.count("run.paused"), types.count("run.unpaused")) == (1, 1)
    audit = (await client.get(f"{API}/audit", params={"resource_id": run_id})).json()
    actions = [entry["action"] for entry in audit]
    assert (actions.count("run.pause"), actions.count("run.unpause")) == (1, 1)


async def test_wrong_states_are_refused_and_a_paused_run_can_be_cancelled(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_run(client)
    not_paused = await _unpause(client, run_id)
    assert not_paused.status_code == 409
    assert not_paused.json()["details"]["status"] == "waiting"
    assert (await _pause(client, run_id)).status_code == 200
    before = await event_types(client, run_id)
    again = await _pause(client, run_id)
    assert again.status_code == 409
    assert again.json()["error_code"] == "INVALID_RUN_STATE"
    assert again.json()["details"]["status"] == "paused"
    assert (await client.post(f"{API}/runs/{run_id}/retry")).status_code == 409
    assert await event_types(client, run_id) == before

    listed = (await client.get(f"{API}/runs", params={"status": "paused"})).json()
    assert [r["id"] for r in listed] == [run_id]
    cancelled = await client.post(f"{API}/runs/{run_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    ended = await _pause(client, run_id)
    assert ended.status_code == 409
    assert ended.json()["details"]["status"] == "cancelled"
