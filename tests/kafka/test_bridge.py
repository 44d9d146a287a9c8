"""The bridge between a towpath queue and Kafka, run against a real towpath and a real broker:
a task step's task goes out on the tasks topic, and the executor's result comes back as the
step's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.kafka.conftest import running
from tests.kafka.flows import waiting_task_run
from tests.kafka.outage import Relay
from tests.runs import API, steps_by_id, wait_for
from tests.waiting import eventually
from towpath.kafka_bridge.bridge import KafkaBridge
from towpath.kafka_bridge.queue_client import BridgeMisconfigured

if TYPE_CHECKING:
    import httpx

    from tests.kafka.conftest import Bridged


async def test_a_task_goes_out_on_kafka_and_the_executors_output_completes_the_run(
    client: httpx.AsyncClient, bridged: Bridged
) -> None:
    run_id = await waiting_task_run(client, bridged.queue, n=7)

    async with bridged.executor() as executor, running(KafkaBridge(bridged.settings())):
        [task] = await executor.received(1)
        await executor.complete(task, {"size": task["input"]["n"] * 6})
        await wait_for(client, run_id, "completed")

    assert task["queue"] == bridged.queue
    assert (task["run_id"], task["step_id"], task["attempt"]) == (run_id, "work", 1)
    assert task["idempotency_key"] == f"{run_id}:work:1"
    assert task["input"] == {"n": 7}
    steps = await steps_by_id(client, run_id)
    assert steps["work"]["output"] == {"size": 42}
    assert steps["after"]["output"] == {"got": {"size": 42}}


async def test_a_failure_the_executor_reports_fails_the_step_and_the_run(
    client: httpx.AsyncClient, bridged: Bridged
) -> None:
    run_id = await waiting_task_run(client, bridged.queue)

    async with bridged.executor() as executor, running(KafkaBridge(bridged.settings())):
        [task] = await executor.received(1)
        await executor.fail(task, "disk full", retryable=False)
        await wait_for(client, run_id, "failed")

    work = (await steps_by_id(client, run_id))["work"]
    assert work["status"] == "failed"
    assert "disk full" in str(work["error"])


async def test_a_retryable_failure_is_published_again_and_its_retry_completes(
    client: httpx.AsyncClient, bridged: Bridged
) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0}
    run_id = await waiting_task_run(client, bridged.queue, retry=retry)

    async with bridged.executor() as executor, running(KafkaBridge(bridged.settings())):
        [first] = await executor.received(1)
        await executor.fail(first, "busy", retryable=True)
        [_, second] = await executor.received(2)
        await executor.complete(second, "done")
        await wait_for(client, run_id, "completed")

    assert (first["attempt"], second["attempt"]) == (1, 2)
    assert (await steps_by_id(client, run_id))["work"]["output"] == "done"


async def test_results_it_cannot_read_or_towpath_refuses_are_skipped(
    client: httpx.AsyncClient, bridged: Bridged
) -> None:
    run_id = await waiting_task_run(client, bridged.queue)
    bridge = KafkaBridge(bridged.settings())

    async with bridged.executor() as executor, running(bridge):
        [task] = await executor.received(1)
        await executor.send(b"not json")
        await executor.publish(task, status="maybe")
        await executor.complete({**task, "lease_token": "1.bm90LWEtdG9rZW4"}, "forged")
        await executor.complete(task, "real")
        await wait_for(client, run_id, "completed")
        await eventually(lambda: bridge.accepted == 1, what="the real result answered")

    assert (await steps_by_id(client, run_id))["work"]["output"] == "real"
    assert bridge.refused == 1


async def test_no_more_tasks_go_out_than_the_bridge_may_have_in_flight(
    client: httpx.AsyncClient, bridged: Bridged
) -> None:
    first_run = await waiting_task_run(client, bridged.queue, n=1)
    second_run = await waiting_task_run(client, bridged.queue, n=2)
    bridge = KafkaBridge(bridged.settings(max_in_flight=1))

    async with bridged.executor() as executor, running(bridge):
        [first] = await executor.received(1)
        queue = (await client.get(f"{API}/queues/{bridged.queue}")).json()
        assert (queue["ready"], queue["leased"], bridge.published) == (1, 1, 1)
        await executor.complete(first, "one")
        [_, second] = await executor.received(2)
        await executor.complete(second, "two")
        await wait_for(client, second_run, "completed")

    await wait_for(client, first_run, "completed")
    assert {first["run_id"], second["run_id"]} == {first_run, second_run}


async def test_a_key_towpath_does_not_accept_stops_the_bridge(bridged: Bridged) -> None:
    bridge = KafkaBridge(bridged.settings(api_key="tp_not_a_key"))

    with pytest.raises(BridgeMisconfigured, match="401"):
        await bridge.run()


async def test_a_result_published_while_towpath_is_down_is_answered_once_it_is_back(
    client: httpx.AsyncClient, bridged: Bridged
) -> None:
    run_id = await waiting_task_run(client, bridged.queue)
    port = int(bridged.server.http.rsplit(":", 1)[1])

    async with Relay(port) as relay, bridged.executor() as executor:
        bridge = KafkaBridge(bridged.settings(url=relay.url))
        async with running(bridge):
            [task] = await executor.received(1)
            await relay.down()
            await executor.complete(task, "kept until towpath answered")
            await eventually(lambda: bridge.retries > 0, what="a try towpath did not answer")
            await relay.up()
            await wait_for(client, run_id, "completed")

    assert (await steps_by_id(client, run_id))["work"]["output"] == "kept until towpath answered"
