"""The serving process's HTTP protocol sends what a connection writes in one turn of the
event loop together: answers arrive whole and in order on a kept-alive connection, a
streamed answer's first part is not held back for its end, a closing answer arrives
before the close, and a connection upgraded to a WebSocket still works."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from websockets.sync.client import connect

from towpath.api.http_protocol import TurnWritingHttpProtocol
from towpath.api.websocket_protocol import CoalescingWebSocketProtocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from starlette.requests import Request
    from starlette.websockets import WebSocket

RELEASE = threading.Event()


async def echo(request: Request) -> PlainTextResponse:
    closing = {"connection": "close"} if "close" in request.query_params else {}
    return PlainTextResponse(f"answer {request.query_params.get('n')}", headers=closing)


async def stream(_: Request) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        yield b"first\n"
        # Released by the test, from its own thread, once the first part has arrived.
        await asyncio.to_thread(RELEASE.wait, 5)
        yield b"last\n"

    return StreamingResponse(parts(), media_type="text/plain")


async def socket_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"heard {await websocket.receive_text()}")
    await websocket.close()


APP = Starlette(
    routes=[Route("/echo", echo), Route("/stream", stream), WebSocketRoute("/ws", socket_echo)]
)


@contextmanager
def served() -> Iterator[int]:
    config = uvicorn.Config(
        APP,
        host="127.0.0.1",
        port=0,
        http=TurnWritingHttpProtocol,
        ws=CoalescingWebSocketProtocol,
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _read_answer(conn: socket.socket, buffered: bytes) -> tuple[bytes, bytes]:
    """One answer with a content-length, and whatever came after it."""
    while b"\r\n\r\n" not in buffered:
        buffered += conn.recv(65536)
    head, _, rest = buffered.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.startswith(b"content-length"))
                 .split(b":")[1])  # fmt: skip
    while len(rest) < length:
        rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def test_answers_arrive_whole_and_in_order_on_a_kept_alive_connection() -> None:
    with served() as port, socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        requests = b"".join(
            f"GET /echo?n={n} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for n in range(5)
        )
        conn.sendall(requests)
        buffered = b""
        answers = []
        for _ in range(5):
            answer, buffered = _read_answer(conn, buffered)
            answers.append(answer)

    assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 5
    assert [a.rsplit(b"\r\n\r\n", 1)[1] for a in answers] == [
        f"answer {n}".encode() for n in range(5)
    ]


def test_a_closing_answer_arrives_before_the_close() -> None:
    with served() as port, socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"GET /echo?n=7&close=1 HTTP/1.1\r\nHost: t\r\n\r\n")
        received = b""
        while chunk := conn.recv(65536):
            received += chunk

    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.endswith(b"answer 7")


def test_a_streamed_answer_starts_before_it_ends() -> None:
    RELEASE.clear()
    with served() as port, httpx.stream("GET", f"http://127.0.0.1:{port}/stream") as response:
        parts = response.iter_bytes()
        first = next(parts)
        RELEASE.set()
        rest = b"".join(parts)

    assert first == b"first\n"
    assert rest == b"last\n"


def test_a_connection_upgraded_to_a_websocket_works() -> None:
    with served() as port, connect(f"ws://127.0.0.1:{port}/ws") as websocket:
        websocket.send("kite")
        assert websocket.recv(timeout=5) == "heard kite"
