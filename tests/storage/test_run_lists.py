"""Listing runs: filters, time windows with any offset, pages and sorts give the same
answer on every database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from tests.factories import node
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx

DONE = {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}
WAITS = {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}


@pytest.mark.parametrize("sort", ["completed_at", "-completed_at"])
async def test_runs_that_have_not_ended_sort_last_by_completion_time(
    client: httpx.AsyncClient, sort: str
) -> None:
    first = await start(client, await publish(client, DONE, name="done"))
    await wait_for(client, first["id"], "completed")
    waiting = await start(client, await publish(client, WAITS, name="waits"))
    await wait_for(client, waiting["id"], "waiting")
    second = await start(client, await publish(client, DONE, name="done2"))
    await wait_for(client, second["id"], "completed")

    listed = (await client.get(f"{API}/runs", params={"sort": sort})).json()

    ended = [first["id"], second["id"]]
    assert [r["id"] for r in listed] == [*(ended if sort[0] != "-" else ended[::-1]), waiting["id"]]


async def test_a_time_window_in_any_offset_selects_the_same_runs(
    client: httpx.AsyncClient,
) -> None:
    run = await start(client, await publish(client, DONE))
    created = datetime.fromisoformat(run["created_at"])
    india = timezone(timedelta(hours=5, minutes=30))
    samoa = timezone(timedelta(hours=-11))

    for zone in (india, samoa, UTC):
        since = (created - timedelta(seconds=1)).astimezone(zone).isoformat()
        until = (created + timedelta(seconds=1)).astimezone(zone).isoformat()
        later = (created + timedelta(microseconds=1)).astimezone(zone).isoformat()
        inside = await client.get(f"{API}/runs", params={"since": since, "until": until})
        after = await client.get(f"{API}/runs", params={"since": later})
        at = created.astimezone(zone).isoformat()
        before = await client.get(f"{API}/runs", params={"until": at})
        assert [r["id"] for r in inside.json()] == [run["id"]], zone
        assert after.json() == [], zone
        # `until` is exclusive, `since` inclusive.
        assert before.json() == [], zone
        exact = await client.get(f"{API}/runs", params={"since": at})
        assert [r["id"] for r in exact.json()] == [run["id"]], zone


async def test_a_page_past_the_end_is_empty_with_the_total(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, DONE)
    for _ in range(3):
        await start(client, workflow_id)

    page = await client.get(f"{API}/runs", params={"page": 3, "per_page": 2})

    assert page.status_code == 200
    assert page.json() == []
    assert page.headers["X-Total-Count"] == "3"
