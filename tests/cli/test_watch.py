"""`towpath runs watch` against a live server: the run's steps drawn as a tree until the
run ends, the exit status telling how it ended, and the stream resumed after a cut."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from tests.cli.conftest import TOWPATH, environment, towpath
from tests.client.conftest import COMPLETES, FAILS, WAITS_FOR_APPROVAL
from tests.client.proxy import proxy_to
from tests.waiting import eventually
from towpath.client import AsyncClient, calls

if TYPE_CHECKING:
    from tests.events.conftest import LiveServer


async def _start(tp: AsyncClient, definition: dict[str, Any]) -> str:
    created = await tp.send(calls.create_workflow({"name": "nightly", "definition": definition}))
    await tp.send(calls.publish_workflow(created.id))
    return (await tp.send(calls.start_run(created.id, {"input": {}}))).id


async def _waiting(tp: AsyncClient, run_id: str) -> bool:
    return (await tp.send(calls.get_run(run_id))).status == "waiting"


async def test_a_completed_run_is_drawn_and_exits_0(server: LiveServer, api_key: str) -> None:
    async with AsyncClient(server.http, api_key) as tp:
        run_id = await _start(tp, COMPLETES)
        done = await towpath("runs", "watch", run_id, env=environment(server.http, api_key))
    assert done.code == 0, done.err
    assert f"nightly run {run_id}  completed" in done.out
    assert "✔ fetch" in done.out
    assert "✔ report" in done.out
    assert "2/2 steps" in done.out


async def test_a_failed_run_exits_3_with_its_error(server: LiveServer, api_key: str) -> None:
    async with AsyncClient(server.http, api_key) as tp:
        run_id = await _start(tp, FAILS)
        done = await towpath("runs", "watch", run_id, env=environment(server.http, api_key))
    assert done.code == 3, done.err
    assert f"nightly run {run_id}  failed" in done.out
    assert "✖ report" in done.out
    assert "missing" in done.out


async def test_watch_follows_a_run_live_across_a_cut_connection(
    server: LiveServer, api_key: str
) -> None:
    async with proxy_to(server.http) as proxy, AsyncClient(server.http, api_key) as tp:
        run_id = await _start(tp, WAITS_FOR_APPROVAL)
        await eventually(lambda: _waiting(tp, run_id), 15, "the run waits for its approval")
        watching = await asyncio.create_subprocess_exec(
            TOWPATH, "runs", "watch", run_id, "--json",
            env=environment(proxy.url, api_key),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert watching.stdout is not None
        # The snapshot is out: the stream is open, and the cut falls on it.
        first = await asyncio.wait_for(watching.stdout.readline(), 60)
        proxy.cut()
        await tp.send(calls.approve_run(run_id, {"approved": True}))
        rest, err = await asyncio.wait_for(watching.communicate(), 60)
        out = first + rest
        stored = [e.seq for e in await tp.send(calls.list_run_events(run_id))]
    assert watching.returncode == 0, err.decode()
    assert proxy.connections >= 2
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert lines[0]["type"] == "snapshot"
    seqs = [m["seq"] for m in lines[1:]]
    assert seqs == [s for s in stored if s > lines[0]["seq"]]
    assert lines[-1]["event_type"] == "run.completed"
