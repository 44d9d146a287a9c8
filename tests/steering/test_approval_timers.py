"""An approval's clock: reminders before the timeout, then its outcome or an escalation
with a new timeout, with the timer's clock moved instead of waiting."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tests.runs import API, steps_by_id, wait_for
from tests.steering.conftest import decide, new_key, waiting_run
from towpath.domain.clock import utcnow
from towpath.engine.timers import expire_due

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.engine.runtime import Runtime


async def _timer(app: FastAPI, seconds: float) -> None:
    """One pass of the timer, as if `seconds` had gone by."""
    runtime: Runtime = app.state.runtime
    d = runtime.driver.dialect
    later = utcnow() + timedelta(seconds=seconds)
    runtime.announce(await runtime.driver.run(lambda: expire_due(d, runtime.workflows, later, 100)))


async def _events(client: httpx.AsyncClient, run_id: str, kind: str) -> list[dict[str, Any]]:
    found = (await client.get(f"{API}/runs/{run_id}/events")).json()
    return [e["data"] for e in found if e["event_type"] == kind]


async def test_reminders_come_before_the_timeout_each_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(
        client, timeout_seconds=3600, remind_before_seconds=[60, 600], on_timeout="reject"
    )
    await _timer(app, 2000)  # before the first reminder: nothing
    assert await _events(client, run_id, "approval.reminder") == []
    await _timer(app, 3010)
    await _timer(app, 3020)  # the same reminder is not sent twice
    [first] = await _events(client, run_id, "approval.reminder")
    assert 580 <= first["seconds_left"] <= 600
    assert first["quorum"] == 1
    assert first["approvals"] == 0
    await _timer(app, 3545)
    assert len(await _events(client, run_id, "approval.reminder")) == 2
    assert (await steps_by_id(client, run_id))["review"]["status"] == "waiting"

    await _timer(app, 3605)
    done = await wait_for(client, run_id, "completed")
    assert done["context"]["review"]["approved"] is False
    assert done["context"]["review"]["decided_by"] == "timeout"


async def test_an_escalation_hands_the_decision_on_with_a_new_timeout(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first_line, boss = await new_key(app, name="first"), await new_key(app, name="boss")
    run_id = await waiting_run(
        client,
        approvers=[first_line.principal],
        timeout_seconds=60,
        on_timeout="escalate",
        escalate_to=["group:bosses"],
        groups={"bosses": [boss.principal]},
        escalate_timeout_seconds=600,
    )
    await _timer(app, 65)
    [escalated] = await _events(client, run_id, "approval.escalated")
    assert escalated["approvers"] == ["group:bosses"]
    review = (await steps_by_id(client, run_id))["review"]
    assert review["status"] == "waiting"
    assert review["request"]["approvers"] == ["group:bosses"]

    refused = await decide(client, run_id, first_line, {"approved": True})
    assert refused.status_code == 403, refused.text
    approved = await decide(client, run_id, boss, {"approved": True, "comment": "go"})
    assert approved.status_code == 200, approved.text
    done = await wait_for(client, run_id, "completed")
    assert done["context"]["review"]["decided_by"] == boss.principal


async def test_an_escalation_nobody_answers_fails_the_step(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(
        client,
        timeout_seconds=60,
        on_timeout="escalate",
        escalate_to=["role:admin"],
        escalate_timeout_seconds=600,
    )
    await _timer(app, 65)
    await _timer(app, 400)  # inside the new timeout: still waiting
    assert (await steps_by_id(client, run_id))["review"]["status"] == "waiting"
    await _timer(app, 700)
    failed = await wait_for(client, run_id, "failed")
    assert "timeout" in failed["error"]
