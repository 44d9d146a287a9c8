"""A run's events through the client's stream: each once and in order, also when the
connection drops mid-run and the stream resumes by itself; and the inbox's stream."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.client.conftest import COMPLETES, WAITS_FOR_APPROVAL
from tests.client.proxy import proxy_to
from tests.waiting import eventually
from towpath.client import (
    AsyncClient,
    Event,
    InboxChange,
    InboxRemoval,
    InboxSnapshot,
    Reconnecting,
    Snapshot,
    calls,
)

if TYPE_CHECKING:
    from tests.events.conftest import LiveServer

FAST = Reconnecting(first_delay=0.05, max_delay=0.2, give_up_after=10)


async def _published(tp: AsyncClient, definition: dict[str, Any]) -> str:
    created = await tp.send(calls.create_workflow({"name": "wf", "definition": definition}))
    return (await tp.send(calls.publish_workflow(created.id))).id


async def test_the_stream_ends_with_the_run(server: LiveServer, api_key: str) -> None:
    async with AsyncClient(server.http, api_key) as tp:
        run = await tp.send(calls.start_run(await _published(tp, COMPLETES), {"input": {}}))
        messages = [m async for m in tp.run_events(run.id)]
        snapshot = messages[0]
        assert isinstance(snapshot, Snapshot)
        events = [m for m in messages if isinstance(m, Event)]
        assert events == messages[1:]
        stored = await tp.send(calls.list_run_events(run.id))
        assert [e.seq for e in events] == [e.seq for e in stored if e.seq > snapshot.seq]
        final = await tp.send(calls.get_run(run.id))
        assert final.status == "completed"


async def test_a_dropped_connection_is_resumed_without_loss_or_repeat(
    server: LiveServer, api_key: str
) -> None:
    async with proxy_to(server.http) as proxy, AsyncClient(server.http, api_key) as direct:
        run = await direct.send(
            calls.start_run(await _published(direct, WAITS_FOR_APPROVAL), {"input": {}})
        )
        seqs: list[int] = []
        async with AsyncClient(proxy.url, api_key, reconnecting=FAST) as tp:
            async for message in tp.run_events(run.id):
                if isinstance(message, Snapshot):
                    seqs.append(message.seq)
                    if message.step_statuses.get("review") != "waiting":
                        continue
                elif isinstance(message, Event):
                    seqs.append(message.seq)
                    if message.event_type != "step.waiting":
                        continue
                else:
                    continue
                if proxy.connections == 1:
                    # Cut while the run moves on: its next events are committed while no
                    # connection is open, and must come after the reconnect.
                    proxy.cut()
                    await direct.send(calls.approve_run(run.id, {"approved": True}))

        stored = [e.seq for e in await direct.send(calls.list_run_events(run.id))]
        assert proxy.connections >= 2
        assert seqs == sorted(set(seqs))
        assert seqs[1:] == [s for s in stored if s > seqs[0]]
        assert (await direct.send(calls.get_run(run.id))).status == "completed"


async def test_the_inbox_stream_tells_what_is_added_and_removed(
    server: LiveServer, api_key: str
) -> None:
    async with AsyncClient(server.http, api_key) as tp:
        workflow_id = await _published(tp, WAITS_FOR_APPROVAL)
        stream = tp.inbox_events()
        first = await anext(stream)
        assert isinstance(first, InboxSnapshot)
        assert first.count == 0
        run = await tp.send(calls.start_run(workflow_id, {"input": {}}))
        added = await anext(stream)
        assert isinstance(added, InboxChange)
        assert (added.type, added.item.run_id, added.count) == ("added", run.id, 1)
        await tp.send(calls.approve_run(run.id, {"approved": True}))
        removed = await anext(stream)
        assert isinstance(removed, InboxRemoval)
        assert (removed.run_id, removed.count) == (run.id, 0)
        await stream.aclose()
        await eventually(lambda: server.hub.subscriber_count() == 0)
