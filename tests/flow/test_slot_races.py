"""Concurrency slots under parallel starts: never more runs of a key at once than its
limit, and every run starts and ends exactly once."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer

STARTS = 50
KEYS = 5


async def test_parallel_starts_never_run_two_of_one_key_at_once(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    slow = f"{echo_server.url}/slow?seconds=0.02"
    definition = {
        "nodes": [node("call", "http_request", {"url": slow})],
        "edges": [],
        "concurrency": {"limit": 1, "key": "{{ input.customer }}"},
    }
    workflow_id = await publish(client, definition)

    runs = await asyncio.gather(
        *(start(client, workflow_id, {"customer": f"c{n % KEYS}"}) for n in range(STARTS))
    )
    done = [await wait_for(client, r["id"], "completed", "failed", seconds=60) for r in runs]

    assert [d["status"] for d in done] == ["completed"] * STARTS, [d["error"] for d in done]
    spans: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    for run in runs:
        events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
        kinds = [e["event_type"] for e in events]
        assert kinds.count("run.started") == 1, kinds
        assert kinds.count("run.completed") == 1, kinds
        assert kinds.count("step.started") == 1, kinds
        at = {e["event_type"]: e["timestamp"] for e in events}
        spans[run["input"]["customer"]].append((at["run.started"], at["run.completed"]))
    for customer, key_spans in spans.items():
        ordered = sorted(key_spans)
        # Each run of a key starts once the one before it ended: one at a time.
        for (_, ended), (began, _) in itertools.pairwise(ordered):
            assert began >= ended, (customer, ordered)
