"""A client that hangs up right after its WebSocket handshake, before the server's accept
reaches it, is a client gone, not a database error: nothing is logged as a failure (a
flood of such handshakes once wrote a traceback each, saying the database could not be
read)."""

from __future__ import annotations

import os
import re
import socket
import struct
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from pathlib import Path

HANDSHAKE = (
    "GET /ws/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {key}\r\n\r\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _hang_up_after_handshake(port: int, key: str) -> None:
    conn = socket.create_connection(("127.0.0.1", port))
    # Closed with a reset, at once: the server finds the client gone when it accepts.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.sendall(HANDSHAKE.format(key=key).encode())
    conn.close()


def test_handshakes_hung_up_at_once_log_no_error(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "TOWPATH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 's.db'}"}
    log = tmp_path / "serve.log"
    with log.open("wb") as errors:
        process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", "towpath", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
    try:
        assert process.stdout is not None
        key = next(
            found.group().decode()
            for line in process.stdout
            if (found := re.search(rb"tp_[A-Za-z0-9_-]+", line))
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "towpath serve did not start"
                time.sleep(0.05)
        for _ in range(20):
            _hang_up_after_handshake(port, key)
        # The server still serves, and has had the time to answer each handshake.
        time.sleep(1.0)
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()

    written = log.read_text()
    assert "Traceback" not in written
    assert "could not read from the database" not in written
    assert '"level": "error"' not in written
