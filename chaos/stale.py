"""Scenario 2: a worker frozen (SIGSTOP) past its lease while its call is in flight,
another worker taking the step over and finishing the run, then the frozen one resumed
(SIGCONT) with its call's answer in hand. Its result is stale: the lease token it holds
is no longer the step's, so the engine must refuse it.

The sink numbers the requests of each key: the first (the frozen worker's) is held and
answered `n: 1` only after the run completed with the second's `n: 2`. A run whose output
says 1, or whose events go on after `run.completed`, took a stale result. Two workers run
throughout; the one whose socket sent the held request is the one frozen.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import TYPE_CHECKING, Any

import httpx

from chaos.client import Client
from chaos.figures import Figure, exactly, measured, note
from chaos.processes import Processes, owner, senders

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "2 stale"
LEASE = 2.0


def definition(sink: str) -> dict[str, Any]:
    call = {"url": f"{sink}/hold/call", "method": "POST"}
    out = {"output": {"n": "{{ call.body.n }}"}}
    return {
        "nodes": [
            {"id": "call", "type": "http_request", "data": {"config": call}},
            {"id": "out", "type": "transform", "data": {"config": out}},
        ],
        "edges": [{"id": "e", "source": "call", "target": "out"}],
    }


async def _until(check: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    rounds = 50 if long else 3
    url = await pg.create_database()
    procs = Processes(work, {"TOWPATH_DATABASE_URL": url, "TOWPATH_LEASE_SECONDS": str(LEASE)})
    stale = unfinished = 0
    try:
        _, sink = await procs.sink()
        procs.env["TOWPATH_STEP_ALLOWED_HOSTS"] = sink.removeprefix("http://")
        base = (await procs.api())[1]
        client = Client([base], procs.admin_key())
        workflow_id = await client.publish("chaos stale", definition(sink))
        workers = [procs.worker(), procs.worker()]
        for i in range(rounds):
            answer = await client.request(
                "POST", f"/workflows/{workflow_id}/run", json={"input": {}}, key=f"s{i}"
            )
            run_id = answer.json()["id"]
            held = f"{run_id}:call:1"

            async def sent(held: str = held) -> bool:
                return bool(senders(sink).get(held))

            if not await _until(sent, 120):
                unfinished += 1
                continue
            frozen = owner(senders(sink)[held][0], workers)
            assert frozen is not None, "no worker holds the held request's socket"
            os.kill(frozen.pid, signal.SIGSTOP)
            note(f"stale {i}: call sent, worker {frozen.pid} frozen")

            async def done(run_id: str = run_id) -> bool:
                found = await client.get(f"/runs/{run_id}")
                return found["status"] in ("completed", "failed")

            finished = await _until(done, 60)
            os.kill(frozen.pid, signal.SIGCONT)
            async with httpx.AsyncClient() as http:
                await http.post(f"{sink}/_release/{held}")
            # The resumed worker has its answer now; give it time to try to commit it.
            await asyncio.sleep(LEASE)
            run = await client.get(f"/runs/{run_id}")
            events = await client.get(f"/runs/{run_id}/events")
            after_end = [e for e in events if e["seq"] > _final_seq(events)]
            completions = sum(
                1 for e in events if e["event_type"] == "step.completed" and e["step_id"] == "call"
            )
            if not finished or run["status"] != "completed":
                unfinished += 1
            elif run["context"]["out"]["n"] != 2 or after_end or completions != 1:
                stale += 1
        await client.close()
    finally:
        procs.close()
        await pg.drop_database()
    return [
        measured(NAME, "freezes past the lease", rounds),
        exactly(NAME, "stale results accepted", stale, 0),
        exactly(NAME, "runs not completed by the other worker", unfinished, 0),
    ]


def _final_seq(events: list[Any]) -> int:
    ends = [e["seq"] for e in events if e["event_type"] in ("run.completed", "run.failed")]
    return ends[0] if ends else 10**9
