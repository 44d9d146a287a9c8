"""Run priority: workers take the ready steps of a workspace's higher-priority runs first,
and the runs waiting for a slot start highest priority first, then oldest."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.flow.conftest import approve, held, per_customer
from tests.runs import API, publish, start, wait_for
from towpath.engine.claim import claim_ready_steps
from towpath.engine.fair_share import Turns
from towpath.engine.sql import database_now

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from tests.servers import EchoServer
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.work import Work


def _calling(url: str, priority: int) -> dict[str, Any]:
    return {
        "nodes": [node("call", "http_request", {"url": url})],
        "edges": [],
        "priority": priority,
    }


async def _claim(runtime: Runtime, limit: int) -> list[Work]:
    d = runtime.driver.dialect

    def claim() -> Gen[list[Work]]:
        now = yield from database_now(d)
        claimed, _ = yield from claim_ready_steps(
            d, runtime.workflows, "w", limit, timedelta(minutes=5), now, turns=Turns()
        )
        return claimed

    return await runtime.driver.run(claim)


async def test_a_claim_takes_higher_priority_runs_steps_first(
    idle: tuple[FastAPI, httpx.AsyncClient], echo_server: EchoServer
) -> None:
    app, c = idle
    low = await publish(c, _calling(f"{echo_server.url}/echo", 0), name="low")
    high = await publish(c, _calling(f"{echo_server.url}/echo", 5), name="high")
    older = [(await start(c, low))["id"] for _ in range(3)]
    urgent = [(await start(c, high))["id"] for _ in range(2)]

    first = await _claim(app.state.runtime, 2)
    rest = await _claim(app.state.runtime, 5)
    priorities = [(await c.get(f"{API}/runs/{r}")).json()["priority"] for r in urgent]

    assert {w.run_id for w in first} == set(urgent)
    assert {w.run_id for w in rest} == set(older)
    assert priorities == [5, 5]


async def test_waiting_runs_start_highest_priority_first(client: httpx.AsyncClient) -> None:
    normal = await publish(client, held(concurrency=per_customer()))
    copy = (await client.post(f"{API}/workflows/{normal}/duplicate")).json()["id"]
    urgent_definition = held(concurrency=per_customer(), priority=10)
    changed = await client.put(f"{API}/workflows/{copy}", json={"definition": urgent_definition})
    assert changed.status_code == 200, changed.text
    assert (await client.post(f"{API}/workflows/{copy}/publish")).status_code == 200
    holder = await start(client, normal, {"customer": "acme"})
    queued_first = await start(client, normal, {"customer": "acme"})
    urgent = await start(client, copy, {"customer": "acme"})

    await approve(client, (await wait_for(client, holder["id"], "waiting"))["id"])

    assert (await wait_for(client, urgent["id"], "waiting"))["priority"] == 10
    assert (await client.get(f"{API}/runs/{queued_first['id']}")).json()["status"] == "pending"
