"""A client that stops reading while a run races on: the engine never waits for it, and the
client is told it fell behind (a resync and a fresh snapshot, or a documented close),
never left with a silent gap."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket as sockets
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

from tests.events.clients import approve, fan_out, history
from tests.events.conftest import serving
from tests.factories import edge, node
from tests.runs import publish, start, wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from fastapi import FastAPI

    from tests.events.clients import Message
    from tests.events.conftest import LiveServer
    from towpath.config import Settings

ITEMS = 600


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stream_queue_size": 16})


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[LiveServer]:
    # Small kernel buffers: a client that stops reading holds the server's sends up soon.
    async with serving(app, send_buffer=4096) as live:
        yield live


class StallingSocket:
    """A WebSocket client that takes data from the network only while it is asked for a
    message: when it stops, the server's sends back up within a few kilobytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.close_code: int | None = None

    async def message(self) -> Message | None:
        """The next text message; None once the server has closed."""
        while self.close_code is None:
            head = await self.reader.readexactly(2)
            size = head[1] & 0x7F
            if size >= 126:
                size = int.from_bytes(await self.reader.readexactly(2 if size == 126 else 8))
            payload = await self.reader.readexactly(size)
            if head[0] & 0x0F == 0x8:
                self.close_code = int.from_bytes(payload[:2])
            elif head[0] & 0x0F == 0x1:
                message: Message = json.loads(payload)
                if message["type"] != "ping":
                    return message
        return None

    async def until_closed(self, seconds: float = 30.0) -> list[Message]:
        found = []
        async with asyncio.timeout(seconds):
            while (message := await self.message()) is not None:
                found.append(message)
        return found


@asynccontextmanager
async def stalling_socket(
    server: LiveServer, path: str, headers: dict[str, str]
) -> AsyncIterator[StallingSocket]:
    sock = sockets.socket(sockets.AF_INET, sockets.SOCK_STREAM)
    sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, 4096)
    host, port = server.http.removeprefix("http://").split(":")
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    answer = await reader.readuntil(b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 101"), answer
    try:
        yield StallingSocket(reader, writer)
    finally:
        writer.close()


def gated_fan_out() -> dict[str, Any]:
    """An approval, then hundreds of items: a burst of events once approved."""
    burst = fan_out(ITEMS)
    burst["nodes"].insert(0, node("go", "approval", {"message": "go?"}))
    burst["edges"].append(edge("go", "each"))
    return burst


async def burst_run(client: httpx.AsyncClient) -> str:
    workflow_id = await publish(client, gated_fan_out())
    run_id: str = (await start(client, workflow_id, {"items": list(range(ITEMS))}))["id"]
    await wait_for(client, run_id, "waiting")
    return run_id


def assert_no_silent_gap(messages: list[Message]) -> None:
    """Every event follows the one before; a snapshot after the first comes after a resync."""
    cursor = None
    for before, message in zip([None, *messages], messages, strict=False):
        if message["type"] == "snapshot":
            assert cursor is None or (before or {}).get("type") == "resync"
            cursor = message["seq"]
        elif message["type"] == "event":
            assert message["seq"] == (cursor or 0) + 1, (cursor, message["seq"])
            cursor = message["seq"]


async def test_a_run_stream_that_falls_behind_resyncs_with_a_fresh_snapshot(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await burst_run(client)
    async with stalling_socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        first = await ws.message()
        await approve(client, run_id)
        # The client reads nothing meanwhile; the run does not wait for it.
        await wait_for(client, run_id, "completed", seconds=30)
        rest = await ws.until_closed()
        assert ws.close_code == 1000

    assert first is not None
    messages = [first, *rest]
    assert_no_silent_gap(messages)
    assert {"type": "resync"} in messages
    final = len(await history(client, run_id))
    last = messages[-1]
    assert last.get("seq") == final
    assert last["type"] == "snapshot" or last["event_type"] == "run.completed"
    await server.subscribers_gone()


async def test_a_multi_run_stream_that_falls_behind_is_closed(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await burst_run(client)
    async with stalling_socket(server, "/ws/stream", auth_headers) as ws:
        await eventually(lambda: server.hub.subscriber_count() == 1)
        await approve(client, run_id)
        await wait_for(client, run_id, "completed", seconds=30)
        received = await ws.until_closed()
        assert ws.close_code == 4429

    # What it did get (maybe nothing: one transition can bring more events than its queue
    # holds) has no gap, and it was closed before the end.
    seqs = [m["seq"] for m in received]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
    assert (seqs[-1] if seqs else 0) < len(await history(client, run_id))
    await server.subscribers_gone()
