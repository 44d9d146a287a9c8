"""`towpath serve` as a client meets it over a raw connection: a WebSocket handshake too
long to read is answered and closed at once, a loopback client's X-Forwarded-For is
not believed unless TOWPATH_TRUSTED_PROXIES says so, and a connection a client pool
keeps idle for reuse is still open when it is reused."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
)


@dataclass(frozen=True)
class Served:
    port: int
    admin_key: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def towpath_serve(tmp_path: Path, **env: str) -> Iterator[Served]:
    port = _free_port()
    environment = {
        **os.environ,
        "TOWPATH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        **env,
    }
    process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "towpath", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        key = next(
            found.group().decode()
            for line in process.stdout
            if (found := re.search(rb"tp_[A-Za-z0-9_-]+", line))
        )
        # A loaded machine (a CI runner, say) may take a while to start a process.
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "towpath serve did not start"
                time.sleep(0.05)
        yield Served(port, key)
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with towpath_serve(tmp_path_factory.mktemp("serve")) as found:
        yield found


# At once, as a loaded machine measures it: a server waiting for the rest of the request
# would hold the socket for its five-second read timeout.
SOON = 3.0


def _handshake(port: int, path: str, extra: str = "") -> tuple[bytes, float]:
    """What the server answers a WebSocket handshake before it closes, and how long that
    took (a socket timeout of five seconds fails the test rather than hanging it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(HANDSHAKE.format(path=path, extra=extra).encode())
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if answer.startswith(b"HTTP/1.1 101"):
                break
        return answer, time.monotonic() - started


@pytest.mark.parametrize("length", [9_000, 20_000, 100_000])
def test_an_oversized_handshake_path_is_refused_at_once(served: Served, length: int) -> None:
    path = "/ws/stream?pad=" + "a" * length

    answer, seconds = _handshake(served.port, path)

    assert answer.startswith(b"HTTP/1.1 414"), answer[:80]
    assert seconds < SOON


def test_an_oversized_handshake_header_is_refused_at_once(served: Served) -> None:
    answer, seconds = _handshake(served.port, "/ws/stream", f"X-Padding: {'b' * 9_000}\r\n")

    assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
    assert seconds < SOON


def test_a_handshake_of_ordinary_size_still_opens(served: Served) -> None:
    answer, _ = _handshake(served.port, "/ws/stream?pad=" + "a" * 7_000)

    assert answer.startswith(b"HTTP/1.1 101")


def _recorded_address(served: Served) -> str:
    headers = {"Authorization": f"Bearer {served.admin_key}", "X-Forwarded-For": "203.0.113.7"}
    with httpx.Client(base_url=f"{served.base}/api/v1", headers=headers, timeout=5) as http:
        made = http.post("/api-keys", json={"name": "forwarded", "role": "viewer"})
        assert made.status_code == 201, made.text
        entries = http.get("/audit", params={"resource_id": made.json()["id"]}).json()
    address: str = entries[0]["client_address"]
    return address


def test_a_loopback_client_cannot_forge_its_address(served: Served) -> None:
    assert _recorded_address(served) == "127.0.0.1"


def test_the_address_a_trusted_proxy_forwards_is_recorded(tmp_path: Path) -> None:
    with towpath_serve(tmp_path, TOWPATH_TRUSTED_PROXIES="127.0.0.1") as trusting:
        assert _recorded_address(trusting) == "203.0.113.7"


def _ask_health(sock: socket.socket) -> bytes:
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
        answer += chunk
    return answer


def test_a_connection_idle_as_long_as_a_client_pool_keeps_it_still_answers(
    served: Served,
) -> None:
    # httpx keeps an idle connection 5 s for reuse, uvicorn's own default closes one after
    # 5 s: a request sent as the server closes fails unanswered (a ReadError).
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        assert _ask_health(sock).startswith(b"HTTP/1.1 200")
        time.sleep(6)
        assert _ask_health(sock).startswith(b"HTTP/1.1 200")
