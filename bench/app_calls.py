"""What the application's own Python costs per request: the ASGI app called in-process.

    .venv/bin/python -m bench.app_calls [--calls 2000] [--repeat 3] [--loads get,steps,...]
        [--profile NAME]

No sockets, no load generator, no HTTP parser: each request is a scope handed to the app
(its middleware, routing, dependencies, endpoint, serialization) and the answer collected.
On a fresh SQLite file with the embedded worker stopped, it publishes a one-step workflow,
starts 300 runs, then times each load `--calls` times in a row, `--repeat` rounds, and
prints the median of the rounds: wall time per call, the event loop thread's CPU time
per call, and all threads' (a read's statements run on a reader thread). `bench.api`
measures the same requests over HTTP with `wrk`; this one tells the application's part
apart from the server's and the network's, and moves far less on a busy machine. With
--profile, cProfile's top functions of the loop thread go to NAME-<load>.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import time
from pathlib import Path
from typing import Any

# The workflow `bench.api` starts over HTTP: the two measure the same requests.
from bench.api import WORKFLOW
from bench.common import admin_key, line, median, sqlite_url

LOADS = ("health", "catalog", "get", "steps", "list", "start")
Call = tuple[str, str, bytes, bytes | None]


class Caller:
    def __init__(self, app: Any, key: str) -> None:
        self.app = app
        self.headers = [(b"host", b"bench"), (b"authorization", f"Bearer {key}".encode())]

    async def __call__(self, method: str, path: str, query: bytes = b"", body: bytes | None = None) -> tuple[int, bytes]:  # fmt: skip
        headers = self.headers
        if body is not None:
            length = str(len(body)).encode()
            headers = [*headers, (b"content-type", b"application/json"), (b"content-length", length)]  # fmt: skip
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 5555),
            "server": ("127.0.0.1", 8000), "state": {},
        }  # fmt: skip
        sent: list[dict[str, Any]] = []
        request: dict[str, Any] | None = {
            "type": "http.request", "body": body or b"", "more_body": False,
        }  # fmt: skip

        async def receive() -> dict[str, Any]:
            nonlocal request
            if request is not None:
                given, request = request, None
                return given
            await asyncio.Event().wait()
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _write(path: str, text: str) -> None:
    Path(path).write_text(text)


async def run(calls: int, repeat: int, loads: list[str], profile: str | None) -> None:
    url = sqlite_url()
    env = {"TOWPATH_DATABASE_URL": url, "TOWPATH_RUN_WORKER": "false"}
    key = admin_key(env)
    os.environ.update(env)
    # Imported once the environment names the database: settings are read from it.
    from towpath.app import create_app
    from towpath.config import load_settings

    app = create_app(load_settings())
    async with app.router.lifespan_context(app):
        call = Caller(app, key)
        _, made = await call("POST", "/api/v1/workflows", body=json.dumps(WORKFLOW).encode())
        workflow = json.loads(made)["id"]
        await call("POST", f"/api/v1/workflows/{workflow}/publish", body=b"{}")
        started = b""
        for _ in range(300):
            _, started = await call("POST", f"/api/v1/workflows/{workflow}/run", body=b'{"input": {}}')  # fmt: skip
        run_id = json.loads(started)["id"]
        requests: dict[str, Call] = {
            "health": ("GET", "/health", b"", None),
            "catalog": ("GET", "/api/v1/catalog/steps", b"", None),
            "get": ("GET", f"/api/v1/runs/{run_id}", b"", None),
            "steps": ("GET", f"/api/v1/runs/{run_id}/steps", b"", None),
            "list": ("GET", "/api/v1/runs", b"per_page=20", None),
            "start": ("POST", f"/api/v1/workflows/{workflow}/run", b"", b'{"input": {}}'),
        }
        print(f"in-process ASGI calls, SQLite, worker stopped; median of {repeat} round(s)")
        for name in loads:
            method, path, query, body = requests[name]
            status, answer = await call(method, path, query, body)
            assert status < 300, (name, status, answer[:300])
            walls, loop_cpus, all_cpus = [], [], []
            for _ in range(repeat):
                for _ in range(50):
                    await call(method, path, query, body)
                began = time.perf_counter(), time.thread_time(), time.process_time()
                for _ in range(calls):
                    await call(method, path, query, body)
                ended = time.perf_counter(), time.thread_time(), time.process_time()
                walls.append(1000 * (ended[0] - began[0]) / calls)
                loop_cpus.append(1000 * (ended[1] - began[1]) / calls)
                all_cpus.append(1000 * (ended[2] - began[2]) / calls)
            label = f"{method} {path.replace(run_id, '{id}').replace(workflow, '{wf}')}"
            line(
                label,
                f"{median(walls):.3f} ms",
                f"loop CPU {median(loop_cpus):.3f} ms, all threads {median(all_cpus):.3f} ms",
            )
            if profile is not None:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(calls):
                    await call(method, path, query, body)
                profiler.disable()
                text = io.StringIO()
                stats = pstats.Stats(profiler, stream=text)
                stats.sort_stats("tottime").print_stats(30)
                stats.sort_stats("cumulative").print_stats(30)
                _write(f"{profile}-{name}.txt", text.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loads", default=",".join(LOADS))
    parser.add_argument("--profile", default=None)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.repeat, args.loads.split(","), args.profile))


if __name__ == "__main__":
    main()
