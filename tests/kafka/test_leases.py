"""The bridge holds the leases of the tasks it published like any worker: it renews them while
the executor works, and when the bridge dies its leases expire, the tasks are published again
under new tokens, and an answer under an old token is refused and skipped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tests.kafka.conftest import running
from tests.kafka.flows import waiting_task_run
from tests.runs import API, event_types, steps_by_id, wait_for
from tests.waiting import eventually
from towpath.kafka_bridge.bridge import KafkaBridge

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import httpx

    from tests.kafka.conftest import Bridged


@contextmanager
def bridge_process(bridged: Bridged, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m towpath.kafka_bridge` configured by its environment; killed if still up."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "towpath.kafka_bridge"],
            env={**os.environ, **bridged.environment()},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=20)


async def test_tasks_of_a_killed_bridge_go_out_again_and_its_stale_answers_are_skipped(
    client: httpx.AsyncClient, bridged: Bridged, tmp_path: Path
) -> None:
    run_id = await waiting_task_run(client, bridged.queue)
    successor = KafkaBridge(bridged.settings())

    async with bridged.executor() as executor:
        with bridge_process(bridged, tmp_path / "bridge.log") as first:
            [stale] = await executor.received(1)
            first.kill()
        async with running(successor):
            [_, fresh] = await executor.received(2)
            await executor.complete(stale, "from the first lease")
            await executor.complete(fresh, "from the second lease")
            await wait_for(client, run_id, "completed")
            await eventually(
                lambda: (successor.refused, successor.accepted) == (1, 1),
                what="the stale answer skipped, the fresh one accepted",
            )

    assert fresh["task_id"] == stale["task_id"]
    assert fresh["lease_token"] != stale["lease_token"]
    assert (await steps_by_id(client, run_id))["work"]["output"] == "from the second lease"
    # Two steps, each completed once: the task step's stale answer changed nothing.
    assert (await event_types(client, run_id)).count("step.completed") == 2


async def test_a_task_held_past_its_first_lease_is_still_the_bridges_to_answer(
    client: httpx.AsyncClient, bridged: Bridged
) -> None:
    run_id = await waiting_task_run(client, bridged.queue)
    settings = bridged.settings()
    bridge = KafkaBridge(settings)

    async with bridged.executor() as executor, running(bridge):
        [task] = await executor.received(1)
        # The lease was taken before the task arrived: it would have ended by then.
        ended = time.monotonic() + settings.lease_seconds + 1
        await eventually(lambda: time.monotonic() > ended, what="the first lease's end")
        await executor.complete(task, "slow but held")
        await wait_for(client, run_id, "completed")
        await eventually(lambda: bridge.accepted == 1, what="the answer accepted")

    assert bridge.published == 1
    assert (await steps_by_id(client, run_id))["work"]["output"] == "slow but held"


async def test_sigterm_stops_the_bridge_and_it_exits_cleanly(
    client: httpx.AsyncClient, bridged: Bridged, tmp_path: Path
) -> None:
    async def polling() -> bool:
        found = await client.get(f"{API}/queues/{bridged.queue}")
        return found.status_code == 200 and found.json()["workers"] == 1

    with bridge_process(bridged, tmp_path / "bridge.log") as process:
        await eventually(polling, 30, "the bridge polling its queue")
        process.send_signal(signal.SIGTERM)
        await eventually(lambda: process.poll() is not None, 15, "the bridge exited")

    assert process.returncode == 0, (tmp_path / "bridge.log").read_text()


async def test_a_task_whose_run_is_cancelled_frees_its_place_in_flight(
    client: httpx.AsyncClient, bridged: Bridged
) -> None:
    cancelled = await waiting_task_run(client, bridged.queue, n=1)
    bridge = KafkaBridge(bridged.settings(max_in_flight=1))

    async with bridged.executor() as executor, running(bridge):
        [first] = await executor.received(1)
        await client.post(f"{API}/runs/{cancelled}/cancel")
        # The next heartbeat finds the lease over; the bridge lets the task go and leases on.
        later = await waiting_task_run(client, bridged.queue, n=2)
        [_, second] = await executor.received(2)
        await executor.complete(second, "after the cancelled one")
        await wait_for(client, later, "completed")
        await eventually(lambda: len(bridge.leases) == 0, what="no lease held any more")

    assert (first["run_id"], second["run_id"]) == (cancelled, later)
