"""Scenario 1: runs of an 8-step DAG on PostgreSQL while workers are SIGKILLed and
PostgreSQL restarts under them.

Every `http_request` goes to a counting sink (`chaos.sink`) which keeps each request's
`Idempotency-Key`: a request is an attempt sent, a distinct key a side effect. The runs'
steps (their `attempts`) and events are then read back from the API and compared with
what the sink saw.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import TYPE_CHECKING, Any

from chaos.client import Client
from chaos.figures import Figure, exactly, measured
from chaos.processes import Processes, counts, jitter, kill

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "1 dags"
TERMINAL = frozenset({"completed", "failed", "cancelled"})
# Side effects one run makes: call1, three for_each items, the child's call, call2.
EFFECTS_PER_RUN = 6


def _node(node_id: str, step_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"id": node_id, "type": step_type, "data": {"label": node_id, "config": config}}


def _edges(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"id": f"{a}->{b}", "source": a, "target": b} for a, b in pairs]


def _call(url: str) -> dict[str, Any]:
    return {"url": url, "method": "POST", "body": {"run": "{{ run.id }}"}}


def child(sink: str) -> dict[str, Any]:
    return {
        "nodes": [
            _node("c_call", "http_request", _call(f"{sink}/child")),
            _node("c_out", "transform", {"output": {"status": "{{ c_call.status }}"}}),
        ],
        "edges": _edges(("c_call", "c_out")),
    }


def parent(sink: str, child_id: str) -> dict[str, Any]:
    item = {"type": "http_request", "config": _call(f"{sink}/item")}
    return {
        "nodes": [
            _node("begin", "transform", {"output": {"items": [1, 2, 3]}}),
            _node("call1", "http_request", _call(f"{sink}/call1")),
            _node(
                "each", "for_each", {"items": "{{ begin.items }}", "step": item, "concurrency": 3}
            ),
            _node("wait", "delay", {"seconds": 1}),
            _node("child", "sub_workflow", {"workflow_id": child_id}),
            _node("call2", "http_request", _call(f"{sink}/call2")),
            _node("join", "transform", {"output": {"items": "{{ each | length }}"}}),
            _node("end", "transform", {"output": {"done": True}}),
        ],
        "edges": _edges(
            ("begin", "call1"),
            ("begin", "each"),
            ("call1", "wait"),
            ("each", "wait"),
            ("wait", "child"),
            ("child", "call2"),
            ("call2", "join"),
            ("join", "end"),
        ),
    }


class Chaos:
    """Kills a random worker (starting another) and restarts PostgreSQL until stopped."""

    def __init__(
        self, procs: Processes, workers: list[subprocess.Popen[bytes]], pg: Postgres
    ) -> None:
        self.procs, self.workers, self.pg = procs, workers, pg
        self.kills = 0
        self.restarts = 0
        self.exits = 0
        self.stop = asyncio.Event()

    async def _every(self, low: float, high: float) -> bool:
        try:
            await asyncio.wait_for(self.stop.wait(), jitter(low, high))
        except TimeoutError:
            return True
        return False

    async def killing(self, low: float, high: float) -> None:
        while await self._every(low, high):
            victim = random.randrange(len(self.workers))
            kill(self.workers[victim])
            self.workers[victim] = self.procs.worker()
            self.kills += 1

    async def supervising(self) -> None:
        """Start a worker again when one exits by itself, as a supervisor would: one
        started while PostgreSQL restarts exits when its migration check cannot connect."""
        while await self._every(1, 1):
            for n, worker in enumerate(self.workers):
                if worker.poll() is not None:
                    self.workers[n] = self.procs.worker()
                    self.exits += 1

    async def restarting(self, low: float, high: float) -> None:
        while await self._every(low, high):
            await asyncio.to_thread(self.pg.restart, crash=self.restarts % 2 == 1)
            self.restarts += 1


async def _status(client: Client, run_id: str) -> str:
    answer = await client.request("GET", f"/runs/{run_id}")
    return "lost" if answer.status_code == 404 else str(answer.json()["status"])


async def _statuses(client: Client, run_ids: list[str]) -> dict[str, str]:
    gate = asyncio.Semaphore(16)

    async def one(run_id: str) -> tuple[str, str]:
        async with gate:
            return run_id, await _status(client, run_id)

    return dict(await asyncio.gather(*(one(r) for r in run_ids)))


async def wait_terminal(client: Client, run_ids: list[str], seconds: float) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    found = dict.fromkeys(run_ids, "?")
    while True:
        open_ids = [r for r, s in found.items() if s not in TERMINAL and s != "lost"]
        found.update(await _statuses(client, open_ids))
        if all(s in TERMINAL or s == "lost" for s in found.values()) or loop.time() > deadline:
            return found
        await asyncio.sleep(1)


async def run_history(client: Client, run_id: str) -> tuple[list[Any], list[Any]]:
    steps = await client.get(f"/runs/{run_id}/steps")
    events: list[Any] = []
    while True:
        got = await client.get(f"/runs/{run_id}/events?after={len(events)}&limit=1000")
        events += got
        if len(got) < 1000:
            return steps, events


async def start_runs(client: Client, workflow_id: str, runs: int, seconds: float) -> list[str]:
    """`runs` starts spread over `seconds`; the ids of those answered 201."""
    started: list[str] = []
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        await asyncio.sleep(i * seconds / runs)
        async with gate:
            answer = await client.request(
                "POST", f"/workflows/{workflow_id}/run", json={"input": {"i": i}}, key=f"start-{i}"
            )
        if answer.status_code in (200, 201):
            started.append(answer.json()["id"])

    await asyncio.gather(*(one(i) for i in range(runs)))
    return started


def audit(
    histories: dict[str, tuple[list[Any], list[Any]]],
    sink: dict[str, int],
    ended: set[str] | None = None,
) -> dict[str, int]:
    """What the runs' records say beside what the sink saw. An attempt of a run not
    ended may still be in flight, unrecorded yet: only `ended` runs' count (all when
    None)."""
    recorded: Counter[str] = Counter()
    twice = gaps = lost_attempts = 0
    for steps, events in histories.values():
        for step in steps:
            for entry in step.get("attempts") or []:
                recorded[entry["idempotency_key"]] += 1
                lost_attempts += entry.get("outcome") == "lost"
        completed = Counter(
            (e["step_id"], e["data"].get("item_index"))
            for e in events
            if e["event_type"] in ("step.completed", "run.completed")
        )
        twice += sum(1 for n in completed.values() if n > 1)
        gaps += [e["seq"] for e in events] != list(range(1, len(events) + 1))
    by_step: dict[str, set[str]] = {}
    for key in sink:
        by_step.setdefault(key.rsplit(":", 1)[0], set()).add(key)
    return {
        "twice": twice,
        "gaps": gaps,
        "sent": sum(sink.values()),
        "unrecorded": sum(
            max(0, n - recorded[key])
            for key, n in sink.items()
            if ended is None or key.split(":", 1)[0] in ended
        ),
        "effects": len(sink),
        "steps_with_effects": len(by_step),
        "steps_with_two": sum(1 for keys in by_step.values() if len(keys) > 1),
        "lost_attempts": lost_attempts,
    }


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    runs, start_seconds = (1000, 300.0) if long else (40, 15.0)
    url = await pg.create_database()
    procs = Processes(work, {"TOWPATH_DATABASE_URL": url, "TOWPATH_LEASE_SECONDS": "5"})
    try:
        _, sink = await procs.sink(200)
        procs.env["TOWPATH_STEP_ALLOWED_HOSTS"] = sink.removeprefix("http://")
        bases = [(await procs.api(f"api{i}"))[1] for i in range(2)]
        key = procs.admin_key()
        workers = [procs.worker() for _ in range(3)]
        client = Client(bases, key)
        child_id = await client.publish("chaos child", child(sink))
        parent_id = await client.publish("chaos dag", parent(sink, child_id))
        chaos = Chaos(procs, workers, pg)
        tasks = [
            asyncio.create_task(chaos.killing(5, 15)),
            asyncio.create_task(chaos.restarting(5, 40 if long else 10)),
            asyncio.create_task(chaos.supervising()),
        ]
        run_ids = await start_runs(client, parent_id, runs, start_seconds)
        await wait_terminal(client, run_ids, 600 if long else 60)
        chaos.stop.set()
        await asyncio.gather(*tasks)
        calm = asyncio.Event()
        chaos.stop = calm
        keeper = asyncio.create_task(chaos.supervising())
        # Without chaos, whatever was left gets its leases' worth of time to finish.
        statuses = await wait_terminal(client, run_ids, 120)
        calm.set()
        await keeper
        children = await client.all_pages(f"/runs?workflow_id={child_id}")
        child_ids = [r["id"] for r in children]
        ended = {r for r, s in statuses.items() if s in TERMINAL}
        ended |= {r["id"] for r in children if r["status"] in TERMINAL}
        gate = asyncio.Semaphore(8)

        async def history(run_id: str) -> tuple[str, tuple[list[Any], list[Any]]]:
            async with gate:
                return run_id, await run_history(client, run_id)

        found = [r for r in run_ids if statuses[r] != "lost"]
        histories = dict(await asyncio.gather(*(history(r) for r in [*found, *child_ids])))
        figures = audit(histories, counts(sink), ended)
        unavailable, failed = client.server_errors[503], client.server_errors[500]
        await client.close()
    finally:
        procs.close()
        await pg.drop_database()
    status_count = Counter(statuses.values())
    completed = status_count["completed"]
    return [
        measured(NAME, "worker SIGKILLs", chaos.kills),
        measured(NAME, "PostgreSQL restarts", chaos.restarts),
        measured(NAME, "workers that exited by themselves, started again", chaos.exits),
        exactly(NAME, "runs started (201)", len(run_ids), runs),
        exactly(NAME, "runs terminal", sum(status_count[s] for s in TERMINAL), runs),
        exactly(NAME, "runs completed", completed, runs),
        exactly(NAME, "runs lost (201, then not found)", status_count["lost"], 0),
        exactly(
            NAME,
            "runs stuck (not terminal)",
            runs - sum(status_count[s] for s in TERMINAL) - status_count["lost"],
            0,
        ),
        exactly(NAME, "steps committed twice", figures["twice"], 0),
        exactly(NAME, "runs with an event seq gap", figures["gaps"], 0),
        measured(NAME, "attempts sent (requests at the sink)", figures["sent"]),
        exactly(NAME, "distinct side effects", figures["effects"], EFFECTS_PER_RUN * completed),
        exactly(
            NAME,
            "http steps with an effect",
            figures["steps_with_effects"],
            EFFECTS_PER_RUN * completed,
        ),
        exactly(NAME, "http steps with two effects", figures["steps_with_two"], 0),
        exactly(NAME, "attempts sent, not recorded", figures["unrecorded"], 0),
        measured(NAME, "attempts recorded as lost", figures["lost_attempts"]),
        measured(NAME, "API answers 503 (database away), sent again", unavailable),
        measured(NAME, "API answers 500, sent again", failed),
    ]
