"""towpath processes the scenarios start, kill and freeze: API servers, workers, sinks.

Each process writes its output to a file in the run's work directory (kept when a target
is missed, so the logs can be read)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from bench.common import ROOT, admin_key, free_port, wait_ready

_FIRST_KEY = re.compile(r"^\s+(tp_\S+)$", re.MULTILINE)
QUIET = {
    "TOWPATH_LOG_LEVEL": "warning",
    # The scenarios drive many requests from one address and one key.
    "TOWPATH_RATE_LIMIT_ADDRESS_PER_MINUTE": "0",
    "TOWPATH_RATE_LIMIT_CREDENTIAL_PER_MINUTE": "0",
}


class Processes:
    """Every process a scenario started; `close` ends those still running."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work = work
        self.env = {**QUIET, **env}
        self.started: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}
        self.key = ""
        self._count = 0

    def spawn(
        self, name: str, args: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        self._count += 1
        path = self.work / f"{self._count:03d}-{name}.log"
        log = path.open("wb")
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**os.environ, **self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.logs[process.pid] = path
        self.started.append(process)
        return process

    def towpath(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        return self.spawn(name, ["-m", "towpath", *args], env)

    def admin_key(self) -> str:
        """The admin key the first `towpath serve` printed, else a new one."""
        return self.key or admin_key(self.env)

    async def api(
        self, name: str = "api", env: dict[str, str] | None = None, *, worker: bool = False
    ) -> tuple[subprocess.Popen[bytes], str]:
        """A `towpath serve --no-worker` (or with its worker) on a free port, ready."""
        port = free_port()
        mode = "--worker" if worker else "--no-worker"
        process = self.towpath(name, "serve", mode, "--port", str(port), env=env)
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, 120)
        # The first server on a new database makes an admin key and prints it.
        found = _FIRST_KEY.search(self.logs[process.pid].read_text())
        if found and not self.key:
            self.key = found.group(1)
        return process, base

    def worker(self, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        return self.towpath("worker", "worker", env=env)

    async def sink(self, max_delay_ms: float = 0) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        process = self.spawn("sink", ["-m", "chaos.sink", str(port), str(max_delay_ms)])
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    await client.get(f"{url}/_counts")
                    return process, url
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise RuntimeError("the sink did not start")

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                if _stopped(process.pid):
                    os.kill(process.pid, signal.SIGCONT)
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "T"
    except OSError:
        return False


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def jitter(low: float, high: float) -> float:
    return random.uniform(low, high)


def counts(sink_url: str) -> dict[str, int]:
    found: dict[str, Any] = httpx.get(f"{sink_url}/_counts", timeout=30).json()
    return {str(k): int(v) for k, v in found["keys"].items()}


def senders(sink_url: str) -> dict[str, list[int]]:
    found: dict[str, Any] = httpx.get(f"{sink_url}/_counts", timeout=30).json()
    return {str(k): [int(p) for p in v] for k, v in found["senders"].items()}


def owner(port: int, candidates: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes] | None:
    """Which of `candidates` holds the loopback TCP socket bound to local `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            inodes.add(f"socket:[{fields[9]}]")
    for process in candidates:
        fds = Path(f"/proc/{process.pid}/fd")
        try:
            if any(os.readlink(fd) in inodes for fd in fds.iterdir()):
                return process
        except OSError:
            continue
    return None
