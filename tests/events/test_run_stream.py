"""WS /ws/runs/{id}: a snapshot (or the missed events), then every event in seq order, then
a normal close when the run ends; watched by real WebSocket clients."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import pytest
from websockets.exceptions import ConnectionClosed

from tests.events.clients import (
    approve,
    assert_follows,
    delays,
    gate,
    gates,
    history,
    receive,
    receive_until,
    seqs,
    socket,
    until_closed,
)
from tests.runs import publish, start, wait_for
from tests.waiting import eventually
from towpath.api.schemas.streams import EventMessage, SnapshotMessage
from towpath.engine.run_io import flush_run, open_run

if TYPE_CHECKING:
    import httpx

    from tests.events.conftest import LiveServer
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction

EVENT_KEYS = {"type", "run_id", "workflow_id", "seq", "event_type", "step_id", "timestamp", "data"}


async def waiting_run(client: httpx.AsyncClient, definition: dict[str, object]) -> str:
    workflow_id = await publish(client, definition)
    run_id: str = (await start(client, workflow_id))["id"]
    await wait_for(client, run_id, "waiting")
    return run_id


async def test_a_snapshot_then_every_event_then_a_normal_close(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    waiting = (await client.get(f"/api/v1/runs/{run_id}")).json()
    steps = (await client.get(f"/api/v1/runs/{run_id}/steps")).json()
    workflow_id = waiting["workflow_id"]
    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        snapshot = await receive(ws)
        await approve(client, run_id)
        rest = await until_closed(ws)
        assert ws.close_code == 1000

    SnapshotMessage.model_validate(snapshot)
    assert snapshot["run"] == waiting
    assert (snapshot["run_id"], snapshot["workflow_id"]) == (run_id, waiting["workflow_id"])
    assert snapshot["step_statuses"] == {"review": "waiting"}
    assert snapshot["waiting"] == {"review": steps[0]["request"]}
    assert snapshot["waiting"]["review"]["votes"] == []
    assert_follows(rest, snapshot["seq"] + 1)
    assert rest[-1]["event_type"] == "run.completed"
    stored = await history(client, run_id)
    assert snapshot["seq"] + len(rest) == len(stored)
    for sent, kept in zip(rest, stored[snapshot["seq"] :], strict=True):
        assert set(sent) == EVENT_KEYS
        EventMessage.model_validate(sent)
        assert sent == kept | {"type": "event", "run_id": run_id, "workflow_id": workflow_id}


async def test_a_client_joining_mid_run_misses_nothing_after_its_snapshot(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    # Four seconds of delays: a loaded machine still joins before the run ends.
    workflow_id = await publish(client, delays(8, 0.5))
    run_id = (await start(client, workflow_id))["id"]

    async def started() -> bool:
        return len(await history(client, run_id)) >= 6

    await eventually(started)

    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        snapshot = await receive(ws)
        rest = await until_closed(ws)
        assert ws.close_code == 1000

    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] >= 6
    assert snapshot["run"]["status"] == "running"
    assert_follows(rest, snapshot["seq"] + 1)
    stored = await history(client, run_id)
    assert [m["event_type"] for m in rest] == [e["event_type"] for e in stored[snapshot["seq"] :]]
    assert stored[-1]["event_type"] == "run.completed"


async def test_reconnecting_with_after_replays_what_was_missed_then_goes_live(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gates(3))
    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        first = [await receive(ws)]
        await approve(client, run_id, "g0")
        first += await receive_until(ws, "approval.requested")
    last_seen = seqs(first)[-1]

    await approve(client, run_id, "g1")
    await wait_for(client, run_id, "waiting")
    async with socket(server, f"/ws/runs/{run_id}?after={last_seen}", auth_headers) as ws:
        replayed = await receive_until(ws, "approval.requested")
        await approve(client, run_id, "g2")
        live = await until_closed(ws)
        assert ws.close_code == 1000

    again = replayed + live
    assert all(m["type"] == "event" for m in again), "no snapshot after a reconnect"
    assert_follows(first[1:] + again, first[0]["seq"] + 1)
    assert seqs(again)[-1] == len(await history(client, run_id))


async def test_many_clients_on_one_run_see_the_same_events(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(socket(server, f"/ws/runs/{run_id}", auth_headers))
            for _ in range(25)
        ]
        snapshots = [await receive(ws) for ws in clients]
        assert server.hub.subscriber_count() == 25
        await approve(client, run_id)
        seen = await asyncio.gather(*(until_closed(ws) for ws in clients))
        assert {ws.close_code for ws in clients} == {1000}

    assert all(snapshot == snapshots[0] for snapshot in snapshots)
    assert all(messages == seen[0] for messages in seen)
    assert_follows(seen[0], snapshots[0]["seq"] + 1)
    assert seen[0][-1]["event_type"] == "run.completed"
    await server.subscribers_gone()


async def test_a_run_that_has_ended_gets_its_snapshot_and_a_normal_close(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    await approve(client, run_id)
    done = await wait_for(client, run_id, "completed")
    final = len(await history(client, run_id))

    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        messages = await until_closed(ws)
        assert ws.close_code == 1000
    assert [m["type"] for m in messages] == ["snapshot"]
    assert messages[0]["run"] == done
    assert messages[0]["seq"] == final

    async with socket(server, f"/ws/runs/{run_id}?after={final - 2}", auth_headers) as ws:
        messages = await until_closed(ws)
        assert ws.close_code == 1000
    assert seqs(messages) == [final - 1, final]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/ws/runs/no-such-run", 4404),
        ("/ws/runs/{run}?after=-1", 4400),
        ("/ws/runs/{run}?after=x", 4400),
        ("/ws/runs/{run}?after=999", 4400),
        # Digits to str.isdigit, not to int(); and past the largest sequence number.
        ("/ws/runs/{run}?after=%C2%B2", 4400),
        ("/ws/runs/{run}?after=%D9%A1", 4400),
        ("/ws/runs/{run}?after=9223372036854775808", 4400),
        ("/ws/workflows/no-such-workflow", 4404),
        ("/ws/workflows/no-such-workflow?versions=all", 4404),
        ("/ws/workflows/no-such-workflow?versions=some", 4400),
        # `events` chooses towpath's messages, the task document's, or both (no query).
        ("/ws/runs/{run}?events=everything", 4400),
        ("/ws/stream?events=", 4400),
    ],
)
async def test_a_stream_that_cannot_be_served_is_closed_with_its_reason(
    server: LiveServer,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    path: str,
    code: int,
) -> None:
    run_id = await waiting_run(client, gate())
    async with socket(server, path.format(run=run_id), auth_headers) as ws:
        with pytest.raises(ConnectionClosed):
            await receive(ws)
        assert ws.close_code == code
        assert ws.close_reason
    assert server.hub.subscriber_count() == 0


async def test_an_idle_stream_is_pinged(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        await receive(ws)
        assert await asyncio.wait_for(ws.recv(), 10) == '{"type":"ping"}'


async def test_a_disconnect_frees_the_subscription_at_once(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as one:
        async with socket(server, "/ws/stream", auth_headers):
            await receive(one)
            assert server.hub.subscriber_count() == 2
        await eventually(lambda: server.hub.subscriber_count() == 1, 5.0)
    await server.subscribers_gone()


async def _commit_unannounced(runtime: Runtime, run_id: str) -> None:
    """An event committed whose publication never reaches this process's bus: what a
    subscriber must then read from the database to keep its seqs gap-free."""
    d = runtime.driver.dialect

    def note() -> Gen[RunTransaction]:
        rt = yield from open_run(d, run_id)
        rt.emit("test.note", None, said="committed, not announced")
        yield from flush_run(rt)
        return rt

    await runtime.driver.run(note)


async def test_events_that_never_reached_the_bus_are_read_from_the_database(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    runtime: Runtime = server.app.state.runtime
    run_id = await waiting_run(client, gates(2))
    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        snapshot = await receive(ws)
        # The hub has fanned this run out, then meets a jump: it reads the gap itself.
        await approve(client, run_id, "g0")
        first = await receive_until(ws, "approval.requested")
        await _commit_unannounced(runtime, run_id)
        await approve(client, run_id, "g1")
        rest = await until_closed(ws)

    assert_follows(first + rest, snapshot["seq"] + 1)
    assert "test.note" in [m["event_type"] for m in rest]
    assert seqs(rest)[-1] == len(await history(client, run_id))


async def test_a_new_client_fills_a_jump_between_its_snapshot_and_the_first_event(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    runtime: Runtime = server.app.state.runtime
    run_id = await waiting_run(client, gate())
    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        snapshot = await receive(ws)
        await _commit_unannounced(runtime, run_id)
        await approve(client, run_id)
        rest = await until_closed(ws)

    assert_follows(rest, snapshot["seq"] + 1)
    assert rest[0]["event_type"] == "test.note"
    assert seqs(rest)[-1] == len(await history(client, run_id))
