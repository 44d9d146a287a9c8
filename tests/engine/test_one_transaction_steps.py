"""A step that calls out is recorded, and the next step made ready and leased to the same
worker, in one transaction: the worker goes straight on without a claim. A result whose
lease was lost still changes nothing, and leases nothing on."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tests.engine.test_lost_attempts import _calling, _claim_as, serving
from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for
from towpath.engine.execute import execute_work
from towpath.engine.results import Continuation, apply_results
from towpath.engine.sql import database_now
from towpath.steps.catalog import default_registry
from towpath.steps.services import engine_services

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from tests.servers import EchoServer
    from towpath.config import Settings
    from towpath.engine.execute import Result
    from towpath.engine.results import Applied
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen

STEPS = 4


def _chain(url: str) -> dict[str, Any]:
    nodes = [node(f"s{i}", "http_request", {"url": f"{url}/echo?n={i}"}) for i in range(STEPS)]
    edges = [edge(f"s{i}", f"s{i + 1}") for i in range(STEPS - 1)]
    return {"nodes": nodes, "edges": edges}


async def test_each_result_leases_the_next_step_to_the_same_worker_in_its_transaction(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    run = await start(client, await publish(client, _chain(echo_server.url)))
    done = await wait_for(client, run["id"], "completed", "failed")
    events = (await client.get(f"{API}/runs/{run['id']}/events")).json()

    assert done["status"] == "completed", done["error"]
    started = {e["step_id"]: e for e in events if e["event_type"] == "step.started"}
    completed = {e["step_id"]: e for e in events if e["event_type"] == "step.completed"}
    for i in range(STEPS - 1):
        result, following = completed[f"s{i}"], started[f"s{i + 1}"]
        # One transaction's events carry its one moment.
        assert following["timestamp"] == result["timestamp"]
        assert following["data"]["worker"] == started[f"s{i}"]["data"]["worker"]
        assert following["seq"] > result["seq"]


async def _watched_chain(
    settings: Settings, url: str
) -> tuple[dict[str, Any], list[tuple[str, list[str]]], bool]:
    """A chain run to its end; each transition it took (its name, its statements' first
    words), and whether the database is PostgreSQL."""
    async with serving(settings) as (app, client):
        driver = app.state.runtime.driver
        run_transition = driver.run
        transitions: list[tuple[str, list[str]]] = []

        async def watching(transition: Callable[[], Gen[Any]]) -> Any:
            seen: list[str] = []
            transitions.append((getattr(transition, "__qualname__", ""), seen))

            def counted() -> Gen[Any]:
                sent: Any = None
                gen = transition()
                while True:
                    try:
                        op = gen.send(sent)
                    except StopIteration as done:
                        return done.value
                    seen.append(op.sql.split()[0])
                    sent = yield op

            return await run_transition(counted)

        workflow_id = await publish(client, _chain(url))
        driver.run = watching
        try:
            run = await start(client, workflow_id)
            done = await wait_for(client, run["id"], "completed", "failed")
        finally:
            driver.run = run_transition
    return done, transitions, driver.dialect.is_postgres


async def test_a_chain_of_calls_costs_one_transaction_a_step(
    settings: Settings, echo_server: EchoServer
) -> None:
    done, transitions, _ = await _watched_chain(settings, echo_server.url)

    assert done["status"] == "completed", done["error"]
    # The start leased the first step; each result recorded itself and leased the next.
    assert sum("_apply" in name for name, _ in transitions) == STEPS


async def test_on_postgresql_a_batch_of_results_is_two_statements_between_begin_and_commit(
    settings: Settings, echo_server: EchoServer
) -> None:
    done, transitions, postgres = await _watched_chain(settings, echo_server.url)

    assert done["status"] == "completed", done["error"]
    applied = [statements for name, statements in transitions if "_apply" in name]
    assert len(applied) == STEPS
    if postgres:
        # The time, the run locks and the steps in one statement, every write in another:
        # with BEGIN and COMMIT, four round trips.
        assert applied == [["WITH", "WITH"]] * STEPS


async def _record(runtime: Runtime, result: Result, continuation: Continuation) -> Applied:
    d = runtime.driver.dialect

    def apply() -> Gen[Applied]:
        now = yield from database_now(d)
        return (
            yield from apply_results(
                d, runtime.workflows, [result], random.Random(), now, continuation
            )
        )

    return await runtime.driver.run(apply)


async def test_a_result_whose_lease_was_lost_neither_records_nor_leases_on(
    settings: Settings, echo_server: EchoServer
) -> None:
    url = f"{echo_server.url}/echo"
    chain = _calling(url)
    chain["nodes"].append(node("next", "http_request", {"url": url}))
    chain["edges"].append(edge("call", "next"))
    async with serving(settings.model_copy(update={"run_worker": False})) as (app, client):
        runtime: Runtime = app.state.runtime
        run_id = (await start(client, await publish(client, chain)))["id"]
        [lost] = await _claim_as(runtime, "vanished", timedelta(0))
        [taken] = await _claim_as(runtime, "successor", timedelta(seconds=30))
        async with engine_services(settings) as services:
            late = await execute_work(lost, default_registry(), services)
        onward = Continuation("vanished", timedelta(seconds=30), limit=10)
        ignored = await _record(runtime, late, onward)
        steps = await steps_by_id(client, run_id)

    assert taken.step_run_id == lost.step_run_id
    assert ignored.continued == []
    assert [e.event_type for rt in ignored.changed for e in rt.events] == []
    assert steps["call"]["status"] == "running"
    assert "next" not in steps
