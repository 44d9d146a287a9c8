"""Scenario 5: one run's events read over WebSocket and over SSE by clients that drop
their connection at random moments and resume (`?after=` / `Last-Event-ID`), each time
from the other of two API processes, while two workers commit the run's events. Every
seq from 1 to the run's last must arrive once: gaps and duplicates are counted."""

from __future__ import annotations

import asyncio
import json
import random
from typing import TYPE_CHECKING, Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chaos.client import API, Client
from chaos.dags import run_history, wait_terminal
from chaos.figures import Figure, exactly, measured
from chaos.processes import Processes

if TYPE_CHECKING:
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "5 streams"


def definition(sink: str) -> dict[str, Any]:
    inner = {"type": "http_request", "config": {"url": f"{sink}/item", "method": "POST"}}
    config = {"items": "{{ input['items'] }}", "step": inner, "concurrency": 4}
    return {"nodes": [{"id": "each", "type": "for_each", "data": {"config": config}}], "edges": []}


class Reader:
    """What one client received, and how often it broke its connection."""

    def __init__(self, bases: list[str], key: str, run_id: str, mean_between: int) -> None:
        self.bases, self.key, self.run_id = bases, key, run_id
        self.mean_between = mean_between
        self.seqs: list[int] = []
        self.disconnects = 0
        self.resyncs = 0

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0

    def _budget(self) -> int:
        return random.randint(1, 2 * self.mean_between)

    async def websocket(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        while True:
            base = self.bases[self.disconnects % 2].replace("http://", "ws://")
            budget = self._budget()
            try:
                async with connect(
                    f"{base}/ws/runs/{self.run_id}?after={self.last}",
                    additional_headers=headers,
                    open_timeout=30,
                ) as ws:
                    while budget > 0:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                        if message["type"] == "event":
                            self.seqs.append(message["seq"])
                            budget -= 1
                        elif message["type"] == "resync":
                            self.resyncs += 1
                    # Half the disconnects are abrupt: no close frame.
                    if self.disconnects % 2:
                        ws.transport.abort()
            except ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code == 1000:
                    return
            self.disconnects += 1

    async def server_sent(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        async with httpx.AsyncClient(headers=headers, timeout=60) as http:
            while True:
                base = self.bases[self.disconnects % 2]
                budget = self._budget()
                ended = True
                async with http.stream(
                    "GET",
                    f"{base}{API}/runs/{self.run_id}/stream",
                    headers={"Last-Event-ID": str(self.last)},
                ) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            message = json.loads(line.partition(":")[2])
                            if message.get("type", "event") == "event" and "seq" in message:
                                self.seqs.append(message["seq"])
                                budget -= 1
                            elif message.get("type") == "resync":
                                self.resyncs += 1
                            elif message.get("type") == "end":
                                # The server ended the stream before the run: resume.
                                ended = False
                        if budget <= 0:
                            ended = False
                            break
                if ended:
                    return
                self.disconnects += 1


def faults(seqs: list[int], last: int) -> tuple[int, int]:
    """(gaps, duplicates) of what a client received against 1..last."""
    return len(set(range(1, last + 1)) - set(seqs)), len(seqs) - len(set(seqs))


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    items, disconnects = (2500, 100) if long else (100, 10)
    url = await pg.create_database()
    procs = Processes(work, {"TOWPATH_DATABASE_URL": url})
    try:
        _, sink = await procs.sink(100)
        procs.env["TOWPATH_STEP_ALLOWED_HOSTS"] = sink.removeprefix("http://")
        bases = [(await procs.api(f"api{i}"))[1] for i in range(2)]
        key = procs.admin_key()
        for _ in range(2):
            procs.worker()
        client = Client(bases, key)
        workflow_id = await client.publish("chaos streams", definition(sink))
        answer = await client.request(
            "POST", f"/workflows/{workflow_id}/run", json={"input": {"items": list(range(items))}}
        )
        run_id = answer.json()["id"]
        # About four events an item.
        between = max(1, 4 * items // disconnects)
        ws, sse = Reader(bases, key, run_id, between), Reader(bases, key, run_id, between)
        await asyncio.wait_for(asyncio.gather(ws.websocket(), sse.server_sent()), 900)
        await wait_terminal(client, [run_id], 60)
        _, events = await run_history(client, run_id)
        last = events[-1]["seq"] if events else 0
        await client.close()
    finally:
        procs.close()
        await pg.drop_database()
    ws_gaps, ws_twice = faults(ws.seqs, last)
    sse_gaps, sse_twice = faults(sse.seqs, last)
    return [
        measured(NAME, "events of the run", last),
        measured(NAME, "WebSocket disconnects and resumes", ws.disconnects),
        exactly(NAME, "WebSocket gaps", ws_gaps, 0),
        exactly(NAME, "WebSocket duplicates", ws_twice, 0),
        measured(NAME, "SSE disconnects and resumes", sse.disconnects),
        exactly(NAME, "SSE gaps", sse_gaps, 0),
        exactly(NAME, "SSE duplicates", sse_twice, 0),
        exactly(NAME, "resyncs (a client fell behind)", ws.resyncs + sse.resyncs, 0),
    ]
