"""`towpath worker` and `towpath serve` started while their database does not answer (at
boot, during a restart) wait for it, saying so, and start once it answers, instead of
exiting; a worker's metrics port keeps a scraper's idle connection open for its next scrape.

The process reaches PostgreSQL through a TCP forwarder that is not listening yet: its
connections are refused, as a server that is down refuses them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.api.test_database_away import Forwarder
from tests.waiting import eventually

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "towpath", *command],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def closed_forwarder(database_url: str) -> Iterator[Forwarder]:
    """A forwarder to the test's database, on a port, not yet started."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a database server that does not answer: PostgreSQL only")
    url = make_url(database_url)
    found = Forwarder(url.host or "127.0.0.1", url.port or 5432)
    found.port = _free_port()
    yield found
    if found.server is not None:
        found.server.close()


@pytest.mark.parametrize("command", ["worker", "serve"])
async def test_a_process_waits_for_its_database_and_starts_once_it_answers(
    database_url: str, closed_forwarder: Forwarder, tmp_path: Path, command: str
) -> None:
    through = make_url(database_url).set(host="127.0.0.1", port=closed_forwarder.port)
    port = _free_port()
    log = tmp_path / f"{command}.log"
    env = {
        **os.environ,
        "TOWPATH_DATABASE_URL": through.render_as_string(hide_password=False),
        "TOWPATH_HOST": "127.0.0.1",
    }
    # The worker serves /health on its metrics port; the server on its own.
    options = ["--metrics-port", str(port)] if command == "worker" else ["--port", str(port)]
    worker = _start([command, *options], env, log)
    try:

        def waiting() -> bool:
            return "waiting for the database" in log.read_text()

        await eventually(waiting, 60, f"{command} saying it waits for the database")
        await eventually(lambda: worker.poll() is None, 0.1, f"{command} still running")
        await closed_forwarder.start()

        async def serving() -> bool:
            async with httpx.AsyncClient() as http:
                try:
                    answer = await http.get(f"http://127.0.0.1:{port}/health")
                except httpx.TransportError:
                    return False
                return answer.status_code == 200

        await eventually(serving, 60, f"{command} started once the database answered")
        assert worker.poll() is None
    finally:
        # Waited for off the event loop: the worker's last statements pass through the
        # forwarder, which runs on it.
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 30)
        await closed_forwarder.cut()


async def test_a_worker_keeps_a_scrapers_idle_connection_for_its_next_scrape(
    database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = {**os.environ, "TOWPATH_DATABASE_URL": database_url, "TOWPATH_HOST": "127.0.0.1"}
    worker = _start(["worker", "--metrics-port", str(port)], env, tmp_path / "w.log")
    try:

        async def serving() -> bool:
            try:
                async with httpx.AsyncClient() as http:
                    return (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(serving, 60, "the worker serving /health")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            assert await _health_on(reader, writer) == 200
            # Past uvicorn's own 5 s, which equals common clients' idle time before reuse.
            await asyncio.sleep(6)
            assert await _health_on(reader, writer) == 200
        finally:
            writer.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 30)


async def _health_on(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    """The status of a `GET /health` sent on an open connection, its answer read whole."""
    writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
    length = next(
        int(line.split(":", 1)[1])
        for line in head.split("\r\n")
        if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    return int(head.split(" ", 2)[1])
