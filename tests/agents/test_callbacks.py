"""Agents that answer 202 and complete their step later through the callback URLs, each
call proven by the token towpath sent with that attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.agents.conftest import PUBLIC_URL
from tests.agents.test_registry import register
from tests.factories import edge, node
from tests.runs import (
    API,
    admin_headers,
    event_types,
    publish,
    start,
    steps_by_id,
    wait_for,
    wait_for_step,
)
from tests.waiting import eventually
from towpath.app import create_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from tests.agents.fleet import AgentFleet
    from towpath.config import Settings


@pytest.fixture
async def agent(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no API key: what an agent calling back has."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as c:
        yield c


def waiting_on(*step_ids: str, **config: Any) -> dict[str, Any]:
    step = {"agent": "worker", "input": {}, "wait_for_callback": True, **config}
    return {
        "nodes": [
            *(node(step_id, "agent", step) for step_id in step_ids),
            node("after", "transform", {"output": {"got": "{{ " + step_ids[0] + " }}"}}),
        ],
        "edges": [edge(step_id, "after") for step_id in step_ids],
    }


async def accepted_run(
    client: httpx.AsyncClient, fleet: AgentFleet, definition: dict[str, Any], **agent: Any
) -> str:
    await register(client, {"name": "worker", "url": fleet.url_for("accepting"), **agent})
    run = await start(client, await publish(client, definition))
    for step_id in {n["id"] for n in definition["nodes"] if n["type"] == "agent"}:
        await wait_for_step(client, run["id"], step_id, "waiting")
    return str(run["id"])


def sent_to(fleet: AgentFleet, step_id: str) -> dict[str, Any]:
    """The last call of the step the agent received, with its callback URLs and token."""
    found: dict[str, Any] = [r.json for r in fleet.requests if r.json["step_id"] == step_id][-1]
    return found


async def test_an_accepted_call_waits_then_the_callback_completes_the_step(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    run_id = await accepted_run(client, agent_fleet, waiting_on("ask"))
    call = sent_to(agent_fleet, "ask")
    base = f"{PUBLIC_URL}{API}/runs/{run_id}/steps/ask"
    assert call["callback_url"] == f"{base}/complete"
    assert call["fail_url"] == f"{base}/fail"
    assert call["heartbeat_url"] == f"{base}/heartbeat"
    waiting = (await steps_by_id(client, run_id))["ask"]
    assert call["callback_token"] not in str(waiting)

    done = await agent.post(
        call["callback_url"], json={"token": call["callback_token"], "output": {"answer": 42}}
    )

    assert done.status_code == 200, done.text
    assert done.json()["step_status"] == "completed"
    run = await wait_for(client, run_id, "completed", "failed")
    assert run["status"] == "completed", run["error"]
    assert run["context"]["after"] == {"got": {"answer": 42}}


async def test_a_second_completion_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    run_id = await accepted_run(client, agent_fleet, waiting_on("ask"))
    call = sent_to(agent_fleet, "ask")
    await agent.post(call["callback_url"], json={"token": call["callback_token"], "output": 1})
    before = await wait_for(client, run_id, "completed", "failed")

    again = await agent.post(
        call["callback_url"], json={"token": call["callback_token"], "output": 2}
    )

    assert again.status_code == 409
    assert again.json()["error_code"] == "CALLBACK_STALE"
    assert (await client.get(f"{API}/runs/{run_id}")).json() == before


@pytest.mark.parametrize("token", ["1.forged", "nonsense", "2.forged", "².forged"])
async def test_a_wrong_token_is_refused_and_the_step_keeps_waiting(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet, token: str
) -> None:
    run_id = await accepted_run(client, agent_fleet, waiting_on("ask"))
    url = sent_to(agent_fleet, "ask")["callback_url"]

    refused = await agent.post(url, json={"token": token, "output": "x"})

    assert refused.status_code in (403, 409)
    assert refused.json()["details"]["field"] == "token"
    assert (await steps_by_id(client, run_id))["ask"]["status"] == "waiting"


async def test_one_steps_token_does_not_complete_another(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    run_id = await accepted_run(client, agent_fleet, waiting_on("left", "right"))
    left = sent_to(agent_fleet, "left")
    right = sent_to(agent_fleet, "right")

    crossed = await agent.post(right["callback_url"], json={"token": left["callback_token"]})

    assert crossed.status_code == 403
    assert crossed.json()["error_code"] == "CALLBACK_TOKEN_INVALID"
    steps = await steps_by_id(client, run_id)
    assert steps["right"]["status"] == steps["left"]["status"] == "waiting"


async def test_a_token_of_an_earlier_attempt_is_stale(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0.01, "max_backoff_seconds": 0.02}
    definition = waiting_on("ask", input={"failures": 1}, retry=retry)
    run_id = await accepted_run(client, agent_fleet, definition)
    first, second = [r.json for r in agent_fleet.requests]
    assert (first["attempt"], second["attempt"]) == (1, 2)

    stale = await agent.post(
        first["callback_url"], json={"token": first["callback_token"], "output": "old"}
    )
    assert stale.status_code == 409
    assert stale.json()["details"]["current_attempt"] == 2
    assert (await steps_by_id(client, run_id))["ask"]["status"] == "waiting"

    current = await agent.post(
        second["callback_url"], json={"token": second["callback_token"], "output": "new"}
    )
    assert current.status_code == 200
    assert (await wait_for(client, run_id, "completed"))["context"]["ask"] == "new"


async def test_the_agent_may_fail_its_step(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    run_id = await accepted_run(client, agent_fleet, waiting_on("ask"))
    call = sent_to(agent_fleet, "ask")

    failed = await agent.post(
        call["fail_url"], json={"token": call["callback_token"], "error": "out of credits"}
    )

    assert failed.status_code == 200
    run = await wait_for(client, run_id, "failed")
    assert "out of credits" in run["error"]


@pytest.mark.parametrize("where", ["agent", "step"])
async def test_a_reported_failure_is_retried_as_the_retry_policy_says(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet, where: str
) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0.01, "max_backoff_seconds": 0.01}
    step_retry = {"retry": retry} if where == "step" else {}
    agent_retry = {"retry": retry} if where == "agent" else {}
    run_id = await accepted_run(client, agent_fleet, waiting_on("ask", **step_retry), **agent_retry)
    first = sent_to(agent_fleet, "ask")
    await agent.post(first["fail_url"], json={"token": first["callback_token"], "error": "busy"})

    await eventually(lambda: agent_fleet.calls("accepting") == 2)
    await wait_for_step(client, run_id, "ask", "waiting")
    second = sent_to(agent_fleet, "ask")
    assert second["attempt"] == 2
    await agent.post(second["fail_url"], json={"token": second["callback_token"], "error": "no"})

    run = await wait_for(client, run_id, "failed")
    assert "no" in run["error"]
    assert agent_fleet.calls("accepting") == 2


async def test_a_heartbeat_moves_the_deadline_and_silence_times_the_step_out(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    # Time enough for a loaded machine to send the heartbeat before `kept` times out too.
    run_id = await accepted_run(client, agent_fleet, waiting_on("kept", "left", callback_timeout=5))
    kept = sent_to(agent_fleet, "kept")

    beat = await agent.post(
        kept["heartbeat_url"], json={"token": kept["callback_token"], "extend_seconds": 3600}
    )

    assert beat.status_code == 200, beat.text
    deadline = datetime.fromisoformat(beat.json()["deadline"])
    assert deadline > datetime.now(UTC) + timedelta(minutes=59)
    left = await wait_for_step(client, run_id, "left", "failed")
    assert "no answer within" in left["error"]
    # The run failed with `left`; `kept`, its deadline moved, was cancelled, not timed out.
    assert (await steps_by_id(client, run_id))["kept"]["status"] == "cancelled"
    assert "agent.heartbeat" in await event_types(client, run_id)


async def test_callbacks_for_an_unknown_run_are_not_found(agent: httpx.AsyncClient) -> None:
    missing = await agent.post(f"{API}/runs/nope/steps/ask/complete", json={"token": "1.x"})

    assert missing.status_code == 404


async def test_without_a_public_url_a_step_waiting_for_a_callback_fails_saying_so(
    settings: Settings, agent_fleet: AgentFleet
) -> None:
    app = create_app(settings.model_copy(update={"public_url": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url=PUBLIC_URL, headers=headers
        ) as client:
            await register(client, {"name": "worker", "url": agent_fleet.url_for("accepting")})
            run = await start(client, await publish(client, waiting_on("ask")))
            done = await wait_for(client, run["id"], "completed", "failed")

    assert "TOWPATH_PUBLIC_URL" in done["error"]
    assert agent_fleet.requests == []


async def test_an_output_no_database_can_hold_is_refused_and_the_step_keeps_waiting(
    client: httpx.AsyncClient, agent: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    run_id = await accepted_run(client, agent_fleet, waiting_on("ask"))
    call = sent_to(agent_fleet, "ask")

    refused = await agent.post(
        call["callback_url"], json={"token": call["callback_token"], "output": {"a": "nul\u0000"}}
    )

    assert refused.status_code == 422
    assert "output" in refused.text
    assert (await steps_by_id(client, run_id))["ask"]["status"] == "waiting"
