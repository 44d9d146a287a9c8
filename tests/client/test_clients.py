"""The client against a live server: a run driven through the sync and the async client,
lists read page by page, and refusals raised with the server's envelope."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from tests.client.conftest import WAITS_FOR_APPROVAL
from towpath.client import AsyncClient, Client, Event, Snapshot, TowpathError, calls, models

if TYPE_CHECKING:
    from tests.events.conftest import LiveServer


async def test_a_run_driven_through_the_async_client(server: LiveServer, api_key: str) -> None:
    async with AsyncClient(server.http, api_key) as tp:
        created = await tp.send(
            calls.create_workflow({"name": "ship", "definition": WAITS_FOR_APPROVAL})
        )
        assert isinstance(created, models.WorkflowResponse)
        published = await tp.send(calls.publish_workflow(created.id))
        assert published.status == "published"
        run = await tp.send(calls.start_run(created.id, models.RunInput(input={"order": 42})))
        assert run.input == {"order": 42}

        async for message in tp.run_events(run.id):
            if isinstance(message, Snapshot) and message.step_statuses.get("review") == "waiting":
                break
            if isinstance(message, Event) and message.event_type == "step.waiting":
                break
        inbox = await tp.send(calls.list_inbox())
        assert [(i.run_id, i.step_id) for i in inbox] == [(run.id, "review")]

        done = await tp.send(calls.approve_run(run.id, models.ApproveInput(approved=True)))
        assert done.status == "completed"
        assert done.context["ship"] == {"shipped": True}
        steps = await tp.send(calls.list_run_steps(run.id))
        assert {s.step_id: s.status for s in steps} == {
            "prepare": "completed",
            "review": "completed",
            "ship": "completed",
        }

        plan = await tp.send(calls.retry_run(run.id, dry_run=True, body={"from_step": "review"}))
        assert isinstance(plan, models.RetryPlanResponse)
        assert plan.run_again == ["review", "ship"]


async def test_the_sync_client_reads_lists_page_by_page(server: LiveServer, api_key: str) -> None:
    def work() -> tuple[list[str], int | None, list[str]]:
        with Client(server.http, api_key) as tp:
            for name in ("a", "b", "c"):
                tp.send(calls.create_workflow({"name": name, "definition": WAITS_FOR_APPROVAL}))
            listed = calls.list_workflows(sort="name")
            first = tp.page(listed, page=1, per_page=2)
            every = [w.name for w in tp.each(listed, per_page=2)]
            return [w.name for w in first.items], first.total, every

    # The server runs in this event loop: the sync client waits in a thread of its own.
    first, total, every = await asyncio.to_thread(work)
    assert (first, total, every) == (["a", "b"], 3, ["a", "b", "c"])


async def test_a_refusal_carries_the_envelope(server: LiveServer, api_key: str) -> None:
    async with AsyncClient(server.http, api_key) as tp:
        with pytest.raises(TowpathError) as missing:
            await tp.send(calls.get_run("no-such-run"))
        assert (missing.value.status, missing.value.error_code) == (404, "RUN_NOT_FOUND")
        assert missing.value.request_id
        with pytest.raises(TowpathError) as invalid:
            await tp.send(calls.create_workflow({"definition": WAITS_FOR_APPROVAL}))
        assert invalid.value.status == 422
        assert invalid.value.details

    async with AsyncClient(server.http, "tp_not_a_key") as stranger:
        with pytest.raises(TowpathError) as refused:
            await stranger.send(calls.list_runs())
        assert refused.value.status == 401


async def test_an_unreachable_server_is_a_towpath_error() -> None:
    async with AsyncClient("http://127.0.0.1:9", timeout=2) as tp:
        with pytest.raises(TowpathError) as lost:
            await tp.send(calls.get_health())
        assert (lost.value.status, lost.value.error_code) == (0, "UNREACHABLE")


async def test_what_cannot_be_sent_or_read_is_a_towpath_error(
    server: LiveServer, api_key: str
) -> None:
    # A URL that does not parse, a key HTTP headers cannot carry (the README's `tp_…`).
    for url, key in [("http://[::1", api_key), (server.http, "tp_…")]:
        with pytest.raises(TowpathError) as unsendable:
            async with AsyncClient(url, key) as tp:
                await tp.send(calls.list_runs())
        assert (unsendable.value.status, unsendable.value.error_code) == (0, "INVALID_REQUEST")
    async with AsyncClient(f"{server.http}/ui", api_key) as console:
        # The console's address: its pages are no API answers.
        with pytest.raises(TowpathError) as page:
            await console.send(calls.list_runs())
        assert page.value.error_code == "NOT_THE_API"
    async with AsyncClient(server.http, api_key) as tp:
        # An empty id names /runs/, which the API answers with a redirect, not a run.
        with pytest.raises(TowpathError) as empty:
            await tp.send(calls.get_run(""))
        assert empty.value.status >= 300
