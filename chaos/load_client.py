"""One load process of scenario 9; prints one JSON line of what it measured.

    python -m chaos.load_client starts|reads|sockets|watchers BASE KEY WORKFLOW_ID SECONDS N [SPREAD]

- starts: N connections starting runs of WORKFLOW_ID; latencies in ms.
- reads: N connections reading the run list and single runs; latencies in ms.
- sockets: N WebSocket clients on /ws/stream (a dashboard of the workspace); the
  messages received, and the delay (receipt less the commit `timestamp`) in ms of the
  first event of each read.
- watchers: N clients that each start a run of WORKFLOW_ID and follow it over
  /ws/runs/{id} until it ends, then start the next, their first starts spread over
  SPREAD seconds (a run's length); the same figures, and the runs followed to their end.

A 503 (or a stream closed with 1013) is the server shedding what it cannot serve now:
counted apart and sent again after its Retry-After, as a client is asked to.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gc
import json
import os
import sys
import time
from array import array
from collections import Counter
from datetime import datetime
from urllib.parse import urlsplit

import httpx

API = "/api/v1"


async def requests(
    role: str, base: str, key: str, workflow_id: str, seconds: float, n: int
) -> dict[str, object]:
    took: list[float] = []
    errors: Counter[str] = Counter()
    shed = 0
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=30
    ) as http:
        deadline = time.monotonic() + seconds
        seen: list[str] = []

        async def loop() -> None:
            nonlocal shed
            while time.monotonic() < deadline:
                began = time.perf_counter()
                try:
                    if role == "starts":
                        answer = await http.post(
                            f"{API}/workflows/{workflow_id}/run", json={"input": {}}
                        )
                    elif seen:
                        answer = await http.get(f"{API}/runs/{seen[-1]}")
                    else:
                        answer = await http.get(f"{API}/runs?per_page=20")
                        if answer.status_code == 200:
                            seen.extend(r["id"] for r in answer.json()[:1])
                except httpx.HTTPError as error:
                    errors[type(error).__name__] += 1
                    continue
                if answer.status_code == 503:
                    # The server sheds what it cannot serve now: sent again, as asked.
                    shed += 1
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                    continue
                took.append((time.perf_counter() - began) * 1000)
                if answer.status_code >= 400:
                    errors[f"{answer.status_code} {_code(answer)}"] += 1

        await asyncio.gather(*(loop() for _ in range(n)))
    return {"role": role, "ms": took, "errors": errors, "shed": shed, "seconds": seconds}


def _code(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error_code"))
    except ValueError:
        return "(not JSON)"


class Watcher(asyncio.Protocol):
    """A lean WebSocket reader: it counts every message, and times the first event of each
    read (the oldest of what arrived together, so the slowest). A thousand sockets of the
    websockets library decoding every message would time this process, not the server."""

    def __init__(self, path: str, host: str, key: str, closed: asyncio.Future[str | None]):
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            f"Authorization: Bearer {key}\r\n\r\n"
        ).encode()
        self.closed = closed
        self.buffer = b""
        self.upgraded = False
        self.messages = 0
        self.delays = array("d")
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer + data if self.buffer else data
        if not self.upgraded:
            head, found, rest = buffer.partition(b"\r\n\r\n")
            if not found:
                self.buffer = buffer
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self._end(head.split(b"\r\n", 1)[0].decode(errors="replace"))
                return
            self.upgraded, buffer = True, rest
        timed, at = False, 0
        while len(buffer) - at >= 2:
            size, start = buffer[at + 1] & 0x7F, at + 2
            if size == 126:
                size, start = int.from_bytes(buffer[at + 2 : at + 4]), at + 4
            elif size == 127:
                size, start = int.from_bytes(buffer[at + 2 : at + 10]), at + 10
            if len(buffer) < start + size:
                break
            opcode, payload = buffer[at] & 0x0F, buffer[start : start + size]
            at = start + size
            if opcode == 1:
                self.messages += 1
                if payload.startswith(b'{"type":"event"') and not timed:
                    timed = True
                    stamp = json.loads(payload)["timestamp"].replace("Z", "+00:00")
                    sent = datetime.fromisoformat(stamp).timestamp()
                    self.delays.append((now - sent) * 1000)
            elif opcode == 9:
                self._send(0xA, payload)
            elif opcode == 8:
                code = int.from_bytes(payload[:2]) if len(payload) >= 2 else None
                self._end(f"closed {code} {payload[2:].decode(errors='replace')}")
        self.buffer = buffer[at:]

    def _send(self, opcode: int, payload: bytes) -> None:
        # What a client sends is masked; a zero mask leaves it as it is.
        assert self.transport is not None
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)

    def _end(self, why: str) -> None:
        if not self.closed.done():
            self.closed.set_result(why)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(f"connection lost: {exc}" if exc else "connection lost")

    def stop(self) -> None:
        """The load is over: not a failure."""
        if not self.closed.done():
            self.closed.set_result(None)
        if self.transport is not None:
            self.transport.close()


async def sockets(base: str, key: str, seconds: float, n: int) -> dict[str, object]:
    # A measuring client must not pause to collect garbage in the middle of a burst.
    gc.disable()
    parsed = urlsplit(base)
    host, port = parsed.hostname, parsed.port
    assert host is not None and port is not None, base
    loop = asyncio.get_running_loop()
    watchers: list[Watcher] = []
    errors: Counter[str] = Counter()
    for _ in range(n):
        closed: asyncio.Future[str | None] = loop.create_future()
        try:
            _, watcher = await loop.create_connection(
                functools.partial(Watcher, "/ws/stream", parsed.netloc, key, closed), host, port
            )
        except OSError as error:
            errors[f"connect: {type(error).__name__}"] += 1
            continue
        watchers.append(watcher)
    await asyncio.wait([w.closed for w in watchers], timeout=seconds)
    for watcher in watchers:
        why = watcher.closed.result() if watcher.closed.done() else None
        if why is not None:
            errors[why[:120]] += 1
        watcher.stop()
    # Whole milliseconds and how many of each: ten minutes of a thousand sockets' delays
    # would be millions of numbers.
    delays = Counter(int(delay) for watcher in watchers for delay in watcher.delays)
    return {
        "role": "sockets",
        "delays": delays,
        "messages": sum(watcher.messages for watcher in watchers),
        "errors": errors,
        "shed": 0,
    }


async def watchers(
    base: str, key: str, workflow_id: str, seconds: float, n: int, spread: float
) -> dict[str, object]:
    """N clients that each start a run and watch it over /ws/runs/{id} to its end, then
    the next: the way a user who starts a run follows it."""
    gc.disable()
    parsed = urlsplit(base)
    host, port = parsed.hostname, parsed.port
    assert host is not None and port is not None, base
    loop = asyncio.get_running_loop()
    errors: Counter[str] = Counter()
    delays: Counter[int] = Counter()
    watched = messages = shed = 0
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as http:

        async def client(number: int) -> None:
            nonlocal watched, messages, shed
            # Spread over a run's length, as users come and go, not all at once.
            await asyncio.sleep(number * spread / n)
            while time.monotonic() < deadline:
                try:
                    answer = await http.post(
                        f"{API}/workflows/{workflow_id}/run", json={"input": {}}
                    )
                except httpx.HTTPError as error:
                    errors[f"start: {type(error).__name__}"] += 1
                    continue
                if answer.status_code == 503:
                    shed += 1
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                    continue
                if answer.status_code != 201:
                    errors[f"start: {answer.status_code} {_code(answer)}"] += 1
                    continue
                path = f"/ws/runs/{answer.json()['id']}"
                closed: asyncio.Future[str | None] = loop.create_future()
                try:
                    _, watcher = await loop.create_connection(
                        functools.partial(Watcher, path, parsed.netloc, key, closed), host, port
                    )
                except OSError as error:
                    errors[f"connect: {type(error).__name__}"] += 1
                    continue
                done, _ = await asyncio.wait([closed], timeout=deadline - time.monotonic())
                watcher.stop()
                messages += watcher.messages
                delays.update(int(delay) for delay in watcher.delays)
                if not done:
                    return
                why = closed.result() or ""
                if why.startswith("closed 1013"):
                    # Not opened now (the server busy): this run goes unwatched.
                    shed += 1
                    await asyncio.sleep(1)
                elif why.startswith("closed 1000"):
                    # Its final event was sent, or it had ended before the socket opened.
                    watched += 1
                else:
                    errors[f"watch: {why[:100]}"] += 1

        await asyncio.gather(*(client(i) for i in range(n)))
    return {
        "role": "watchers",
        "delays": delays,
        "messages": messages,
        "watched": watched,
        "errors": errors,
        "shed": shed,
    }


if __name__ == "__main__":
    role, base, key, workflow_id, seconds, n = sys.argv[1:7]
    if role == "sockets":
        found = asyncio.run(sockets(base, key, float(seconds), int(n)))
    elif role == "watchers":
        spread = float(sys.argv[7])
        found = asyncio.run(watchers(base, key, workflow_id, float(seconds), int(n), spread))
    else:
        found = asyncio.run(requests(role, base, key, workflow_id, float(seconds), int(n)))
    print(json.dumps(found))
