"""A server restart in the middle of a delay or of a waiting approval loses nothing."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from tests.factories import edge, node
from tests.runs import API, admin_headers, publish, start, steps_by_id, wait_for, wait_for_step
from tests.waiting import eventually
from towpath.app import create_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.servers import EchoServer
    from towpath.config import Settings


@asynccontextmanager
async def server(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """One server process's life: start, serve, stop."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://towpath.test", headers=headers
        ) as c:
            yield c


async def test_a_delay_survives_a_restart_without_being_shortened(settings: Settings) -> None:
    definition = {
        "nodes": [
            node("wait", "delay", {"seconds": 1.5}),
            node("after", "transform", {"output": {"done": True}}),
        ],
        "edges": [edge("wait", "after")],
    }
    async with server(settings) as client:
        workflow_id = await publish(client, definition)
        run = await start(client, workflow_id)

        async def parked() -> bool:
            # It ran once, fixed its due time, and sits queued until then.
            wait = (await steps_by_id(client, run["id"])).get("wait", {})
            return wait.get("status") == "queued" and bool(wait.get("started_at"))

        await eventually(parked, what="the delay parked")
        steps = await steps_by_id(client, run["id"])
        started = datetime.fromisoformat(steps["wait"]["started_at"])

    # Time passes with no server up, as in an outage; the behaviour under test.
    outage = 0.3
    await asyncio.sleep(outage)

    async with server(settings) as client:
        up = datetime.now(UTC)
        done = await wait_for(client, run["id"], "completed", "failed")
        steps = await steps_by_id(client, run["id"])

    assert done["status"] == "completed"
    waited_until = datetime.fromisoformat(steps["wait"]["output"]["waited_until"])
    completed = datetime.fromisoformat(steps["wait"]["completed_at"])
    waited = (waited_until - started).total_seconds()
    # The due time is the one fixed before the outage: counted again from the restart, it
    # would be at least the outage later.
    assert 1.5 <= waited < 1.5 + outage
    assert completed >= waited_until
    # And the restarted worker wakes for it, however long the restart itself took.
    assert (completed - max(up, waited_until)).total_seconds() < 5


async def test_a_waiting_approval_survives_a_restart(settings: Settings) -> None:
    definition = {
        "nodes": [
            node("ask", "approval", {"message": "ship {{ input.version }}?"}),
            node("ship", "transform", {"output": {"by": "{{ ask.decided_by }}"}}),
        ],
        "edges": [edge("ask", "ship")],
    }
    async with server(settings) as client:
        workflow_id = await publish(client, definition)
        run = await start(client, workflow_id, {"version": "1.2"})
        await wait_for(client, run["id"], "waiting")

    async with server(settings) as client:
        steps = await steps_by_id(client, run["id"])
        assert steps["ask"]["request"]["message"] == "ship 1.2?"
        answer = await client.post(f"{API}/runs/{run['id']}/approve", json={"approved": True})
        assert answer.status_code == 200, answer.text
        done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed"
    # The approver is the key that answered, by its id.
    assert done["context"]["ship"]["by"].startswith("key:")


async def test_wait_for_event_is_answered_by_a_posted_event(settings: Settings) -> None:
    definition = {
        "nodes": [
            node("paid", "wait_for_event", {"event_name": "payment", "key": "{{ input.order }}"}),
            node("ship", "transform", {"output": {"amount": "{{ paid.data.amount }}"}}),
        ],
        "edges": [edge("paid", "ship")],
    }
    async with server(settings) as client:
        workflow_id = await publish(client, definition)
        run = await start(client, workflow_id, {"order": "A-1"})
        other = await start(client, workflow_id, {"order": "B-2"})
        await wait_for(client, run["id"], "waiting")
        await wait_for(client, other["id"], "waiting")

        posted = await client.post(
            f"{API}/events", json={"name": "payment", "key": "A-1", "data": {"amount": 12}}
        )
        done = await wait_for(client, run["id"], "completed", "failed")
        still = (await client.get(f"{API}/runs/{other['id']}")).json()

    assert posted.json()["run_ids"] == [run["id"]]
    assert done["context"]["ship"] == {"amount": 12}
    assert still["status"] == "waiting"


async def test_a_stopping_worker_hands_its_steps_back(
    settings: Settings, echo_server: EchoServer
) -> None:
    quick = settings.model_copy(update={"shutdown_grace_seconds": 0.1})
    # The first call lasts until its worker stops, however slow the machine; the next
    # answers at once.
    stalls = f"{echo_server.url}/stall/{uuid.uuid4().hex}"
    definition = {"nodes": [node("call", "http_request", {"url": stalls})], "edges": []}
    async with server(quick) as client:
        workflow_id = await publish(client, definition)
        run = await start(client, workflow_id)
        await wait_for_step(client, run["id"], "call", "running")

    async with server(settings) as client:
        done = await wait_for(client, run["id"], "completed", "failed")
        events = (await client.get(f"{API}/runs/{run['id']}/events")).json()

    assert done["status"] == "completed"
    handed_back = [e for e in events if e["data"].get("reason") == "the worker stopped"]
    assert [e["event_type"] for e in handed_back] == ["step.queued"]
    # Run again as the same attempt: a downstream system sees one idempotency key.
    keys = {r.headers["idempotency-key"] for r in echo_server.requests}
    assert keys == {f"{run['id']}:call:1"}
