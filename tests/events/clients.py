"""Real stream clients for tests (the `websockets` library and httpx), the workflows they
watch, and checks on what they received."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.factories import edge, node

# Re-exported for stream tests that import it from here; it lives in tests/waiting.py.
from tests.waiting import eventually as eventually

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from websockets.asyncio.client import ClientConnection

    from tests.events.conftest import LiveServer

Message = dict[str, Any]


def gate() -> dict[str, Any]:
    """review (an approval) -> after: waits for a person, then finishes."""
    return {
        "nodes": [
            node("review", "approval", {"message": "ship it?"}),
            node("after", "transform", {"output": {"done": True}}),
        ],
        "edges": [edge("review", "after")],
    }


def gates(count: int) -> dict[str, Any]:
    """`count` approvals one after the other, then a transform: each answer moves the
    run one step on."""
    nodes = [node(f"g{i}", "approval", {"message": f"gate {i}"}) for i in range(count)]
    nodes.append(node(f"g{count}", "transform", {"output": {}}))
    edges = [edge(f"g{i}", f"g{i + 1}") for i in range(count)]
    return {"nodes": nodes, "edges": edges}


def delays(count: int, seconds: float) -> dict[str, Any]:
    nodes = [node(f"d{i}", "delay", {"seconds": seconds}) for i in range(count)]
    edges = [edge(f"d{i}", f"d{i + 1}") for i in range(count - 1)]
    return {"nodes": nodes, "edges": edges}


def fan_out(items: int) -> dict[str, Any]:
    """One for_each of `items` transforms, 100 at a time: many events in little time."""
    inner = {"type": "transform", "config": {"output": {"n": "{{ item }}"}}}
    config = {"items": "{{ input['items'] }}", "step": inner, "concurrency": 100}
    return {"nodes": [node("each", "for_each", config)], "edges": []}


@asynccontextmanager
async def socket(
    server: LiveServer, path: str, headers: dict[str, str], **options: Any
) -> AsyncIterator[ClientConnection]:
    async with connect(
        f"{server.ws}{path}", additional_headers=headers, open_timeout=10, **options
    ) as ws:
        yield ws


async def receive(ws: ClientConnection, seconds: float = 10.0) -> Message:
    """The next message that is not a ping."""
    while True:
        message: Message = json.loads(await asyncio.wait_for(ws.recv(), seconds))
        if message["type"] != "ping":
            return message


async def until_closed(ws: ClientConnection, seconds: float = 20.0) -> list[Message]:
    """Every message but pings until the server closes the socket."""
    found: list[Message] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = json.loads(await ws.recv())
                if message["type"] != "ping":
                    found.append(message)
    except ConnectionClosed:
        return found


async def receive_until(
    ws: ClientConnection, event_type: str, seconds: float = 15.0
) -> list[Message]:
    """Messages up to and including the first event of `event_type`."""
    found: list[Message] = []
    async with asyncio.timeout(seconds):
        while True:
            found.append(await receive(ws, seconds))
            if found[-1].get("event_type") == event_type:
                return found


def seqs(messages: list[Message], run_id: str | None = None) -> list[int]:
    return [
        m["seq"]
        for m in messages
        if m["type"] == "event" and (run_id is None or m["run_id"] == run_id)
    ]


def assert_follows(messages: list[Message], first: int, run_id: str | None = None) -> None:
    """The events (of one run) have seqs first, first + 1, ... with nothing missing or twice."""
    found = seqs(messages, run_id)
    assert found == list(range(first, first + len(found))), found


async def history(client: httpx.AsyncClient, run_id: str) -> list[Message]:
    """Every stored event of the run, page by page."""
    found: list[Message] = []
    while True:
        after = found[-1]["seq"] if found else 0
        page = (await client.get(f"/api/v1/runs/{run_id}/events?after={after}")).json()
        if not page:
            return found
        found += page


async def approve(client: httpx.AsyncClient, run_id: str, step_id: str | None = None) -> None:
    body: dict[str, Any] = {"approved": True}
    if step_id is not None:
        body["step_id"] = step_id
    answered = await client.post(f"/api/v1/runs/{run_id}/approve", json=body)
    assert answered.status_code == 200, answered.text
