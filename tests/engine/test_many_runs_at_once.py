"""Many runs at once, each fanning out and joining: every run ends completed, every step
ran exactly once, and each run's history is gap-free and agrees with its steps."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer

RUNS = 20
BRANCHES = 5


def _fan(echo_server: EchoServer) -> dict[str, Any]:
    url = echo_server.url + "/echo?run={{ input.n }}&b="
    calls = [node(f"call{i}", "http_request", {"url": f"{url}{i}"}) for i in range(BRANCHES)]
    total = " + ".join(f"call{i}.status" for i in range(BRANCHES))
    return {
        "nodes": [
            node("start", "transform", {"output": {"n": "{{ input.n }}"}}),
            *calls,
            node("join", "transform", {"output": {"sum": "{{ " + total + " }}"}}),
        ],
        "edges": [
            *(edge("start", f"call{i}") for i in range(BRANCHES)),
            *(edge(f"call{i}", "join") for i in range(BRANCHES)),
        ],
    }


async def test_many_runs_fanning_out_end_once_each(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    workflow_id = await publish(client, _fan(echo_server))

    runs = await asyncio.gather(*(start(client, workflow_id, {"n": n}) for n in range(RUNS)))
    done = [await wait_for(client, r["id"], "completed", "failed", seconds=30) for r in runs]

    assert [d["status"] for d in done] == ["completed"] * RUNS, [d["error"] for d in done]
    assert all(d["context"]["join"] == {"sum": 200 * BRANCHES} for d in done)
    assert len(echo_server.requests) == RUNS * BRANCHES
    for run in runs:
        events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        started = Counter(e["step_id"] for e in events if e["event_type"] == "step.started")
        assert set(started.values()) == {1}, started
        assert len(started) == BRANCHES + 2
        assert [e["event_type"] for e in events].count("run.completed") == 1
        assert events[-1]["event_type"] == "run.completed"
        steps = (await client.get(f"{API}/runs/{run['id']}/steps")).json()
        assert {s["status"] for s in steps} == {"completed"}
        assert all(s["attempt"] == 1 for s in steps)
