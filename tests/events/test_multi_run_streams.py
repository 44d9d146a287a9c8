"""WS /ws/workflows/{id} and WS /ws/stream: the live events of many runs, each run's in seq
order and without gaps, scoped to one workflow or to the caller's workspace."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tests.events.clients import approve, assert_follows, gate, history, receive, socket
from tests.runs import publish, start, wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection

    from tests.events.clients import Message
    from tests.events.conftest import LiveServer


async def until_runs_end(ws: ClientConnection, runs: int) -> list[Message]:
    """Messages until `runs` runs have sent their final event; a live stream stays open."""
    found: list[Message] = []
    async with asyncio.timeout(20):
        while sum(m.get("event_type") == "run.completed" for m in found) < runs:
            found.append(await receive(ws))
    return found


async def finish(client: httpx.AsyncClient, run_id: str) -> None:
    await wait_for(client, run_id, "waiting")
    await approve(client, run_id)
    await wait_for(client, run_id, "completed")


async def test_workflow_and_workspace_streams_carry_their_runs_in_order(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    watched = await publish(client, gate(), name="watched")
    other = await publish(client, gate(), name="other")
    async with (
        socket(server, f"/ws/workflows/{watched}", auth_headers) as one_workflow,
        socket(server, "/ws/stream", auth_headers) as everything,
    ):
        await eventually(lambda: server.hub.subscriber_count() == 2)
        runs = [
            (await start(client, workflow_id))["id"] for workflow_id in (watched, other, watched)
        ]
        await asyncio.gather(*(finish(client, run_id) for run_id in runs))
        of_workflow = await until_runs_end(one_workflow, 2)
        of_workspace = await until_runs_end(everything, 3)

    assert {m["run_id"] for m in of_workflow} == {runs[0], runs[2]}
    assert {m["workflow_id"] for m in of_workflow} == {watched}
    assert {m["run_id"] for m in of_workspace} == set(runs)
    for messages, run_ids in ((of_workflow, [runs[0], runs[2]]), (of_workspace, runs)):
        for run_id in run_ids:
            # The runs started after the client joined: each is seen from its first event.
            assert_follows(messages, 1, run_id)
            sent = [m for m in messages if m["run_id"] == run_id]
            assert len(sent) == len(await history(client, run_id))
    await server.subscribers_gone()


async def test_a_multi_run_stream_starts_live(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    workflow_id = await publish(client, gate())
    run_id = (await start(client, workflow_id))["id"]
    await wait_for(client, run_id, "waiting")
    joined_at = len(await history(client, run_id))
    async with socket(server, f"/ws/workflows/{workflow_id}", auth_headers) as ws:
        await eventually(lambda: server.hub.subscriber_count() == 1)
        await approve(client, run_id)
        messages = await until_runs_end(ws, 1)

    assert_follows(messages, joined_at + 1, run_id)
    assert messages[-1]["seq"] == len(await history(client, run_id))


async def _new_version(client: httpx.AsyncClient, workflow_id: str) -> str:
    made = await client.post(f"/api/v1/workflows/{workflow_id}/duplicate")
    assert made.status_code == 201, made.text
    version: str = made.json()["id"]
    assert (await client.post(f"/api/v1/workflows/{version}/publish")).status_code == 200
    return version


async def test_a_workflow_stream_of_every_version_carries_the_runs_of_each(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    first = await publish(client, gate(), name="versioned")
    second = await _new_version(client, first)
    other = await publish(client, gate(), name="other")
    async with (
        socket(server, f"/ws/workflows/{second}?versions=all", auth_headers) as lineage,
        socket(server, f"/ws/workflows/{second}", auth_headers) as one_version,
    ):
        await eventually(lambda: server.hub.subscriber_count() == 2)
        runs = [(await start(client, w))["id"] for w in (first, other, second)]
        await asyncio.gather(*(finish(client, run_id) for run_id in runs))
        of_lineage = await until_runs_end(lineage, 2)
        of_version = await until_runs_end(one_version, 1)

    assert {m["run_id"] for m in of_lineage} == {runs[0], runs[2]}
    assert {m["workflow_id"] for m in of_lineage} == {first, second}
    assert {m["run_id"] for m in of_version} == {runs[2]}
    for run_id in (runs[0], runs[2]):
        sent = [m for m in of_lineage if m["run_id"] == run_id]
        assert_follows(sent, 1, run_id)
        assert len(sent) == len(await history(client, run_id))
    await server.subscribers_gone()
