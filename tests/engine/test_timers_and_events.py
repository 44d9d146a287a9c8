"""Delays and events as a user drives them: a time already past does not wait, a time to
come is kept, and an event answers exactly the steps waiting for its name and key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.factories import node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx


def _delay_until(until: str) -> dict[str, object]:
    return {"nodes": [node("wait", "delay", {"until": until})], "edges": []}


async def test_a_delay_until_a_past_time_completes_at_once(client: httpx.AsyncClient) -> None:
    past = "2001-02-03T04:05:06+02:00"
    run = await start(client, await publish(client, _delay_until(past)))

    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    waited = datetime.fromisoformat(done["context"]["wait"]["waited_until"])
    assert waited == datetime.fromisoformat(past)


async def test_a_delay_until_a_time_to_come_waits_for_it(client: httpx.AsyncClient) -> None:
    due = datetime.now(UTC) + timedelta(seconds=1)
    workflow_id = await publish(client, _delay_until("{{ input.due }}"))
    run = await start(client, workflow_id, {"due": due.isoformat()})

    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
    completed_at = datetime.fromisoformat(events[-1]["timestamp"])
    assert completed_at >= due


async def test_a_delay_until_a_time_without_an_offset_fails_saying_so(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, _delay_until("{{ input.due }}"))
    run = await start(client, workflow_id, {"due": "2030-01-01T00:00:00"})

    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "offset" in done["error"]


async def test_an_event_answers_only_the_runs_waiting_for_its_key(
    client: httpx.AsyncClient,
) -> None:
    config = {"event_name": "paid", "key": "{{ input.order }}"}
    definition = {"nodes": [node("paid", "wait_for_event", config)], "edges": []}
    workflow_id = await publish(client, definition)
    runs = {order: await start(client, workflow_id, {"order": order}) for order in ("a", "b")}
    for run in runs.values():
        await wait_for(client, run["id"], "waiting")

    no_key = await client.post(f"{API}/events", json={"name": "paid"})
    other_name = await client.post(f"{API}/events", json={"name": "refunded", "key": "a"})
    event = {"name": "paid", "key": "a", "data": {"v": 1}}
    answered = await client.post(f"{API}/events", json=event)
    again = await client.post(f"{API}/events", json={"name": "paid", "key": "a"})

    assert no_key.json()["run_ids"] == []
    assert other_name.json()["run_ids"] == []
    assert answered.json()["run_ids"] == [runs["a"]["id"]]
    assert again.json()["run_ids"] == []
    done = await wait_for(client, runs["a"]["id"], "completed")
    assert done["context"]["paid"] == {"name": "paid", "key": "a", "data": {"v": 1}}
    assert (await client.get(f"{API}/runs/{runs['b']['id']}")).json()["status"] == "waiting"
    assert "event.received" in await event_types(client, runs["a"]["id"])
    steps = await steps_by_id(client, runs["b"]["id"])
    assert steps["paid"]["request"] == {"event_name": "paid", "key": "b"}
