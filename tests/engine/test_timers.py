"""Timers: waiting steps whose time ran out and runs past their deadline, with a moved clock."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, wait_for
from towpath.domain.clock import utcnow
from towpath.engine.timers import expire_due

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.engine.runtime import Runtime


async def _expire(app: FastAPI, hours: float) -> list[str]:
    """One pass of the timer, as if `hours` had gone by."""
    runtime: Runtime = app.state.runtime
    d = runtime.driver.dialect
    later = utcnow() + timedelta(hours=hours)
    changed = await runtime.driver.run(lambda: expire_due(d, runtime.workflows, later, 100))
    runtime.announce(changed)
    return [rt.run.id for rt in changed]


async def test_a_step_and_its_runs_deadline_due_together_end_the_run_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    definition = {
        "nodes": [
            node(
                "review",
                "approval",
                {"message": "ok?", "timeout_seconds": 60, "on_timeout": "approve"},
            ),
            node("after", "transform", {"output": {"done": True}}),
        ],
        "edges": [edge("review", "after")],
        "timeout_seconds": 60,
    }
    workflow_id = await publish(client, definition)
    both = (await start(client, workflow_id))["id"]
    second = (await start(client, workflow_id))["id"]
    for run_id in (both, second):
        await wait_for(client, run_id, "waiting")

    # The approval's timeout and the run's deadline are both an hour past.
    expired = await _expire(app, hours=1)

    assert set(expired) == {both, second}
    for run_id in (both, second):
        run = await wait_for(client, run_id, "failed")
        assert run["error"] == "the run took longer than its timeout"
        types = await event_types(client, run_id)  # gap-free seq, checked inside
        assert "approval.approved" in types
        assert types[-1] == "run.failed"
        steps = (await client.get(f"{API}/runs/{run_id}/steps")).json()
        assert {s["step_id"]: s["status"] for s in steps} == {
            "review": "completed",
            "after": "cancelled",
        }
    # Nothing is left due: another pass changes nothing.
    assert await _expire(app, hours=2) == []
