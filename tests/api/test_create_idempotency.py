"""Every creating endpoint honours X-Idempotency-Key: the same request again answers the
first result (200, Idempotent-Replayed) and makes nothing more; the same key with
another body is a 422. A key issued once cannot be shown again: its repeat is a 409."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API, publish

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

ECHO = {"nodes": [node("echo", "transform", {"output": {"seen": "{{ input }}"}})], "edges": []}
HOOK = "https://example.com/hook"

# Each endpoint, its list, and a body made from a published workflow's id and a name.
MAKERS: dict[str, tuple[str, Callable[[str, str], dict[str, Any]]]] = {
    "/triggers/events": (
        "/triggers/events",
        lambda wf, name: {"name": name, "event_name": "order.paid", "workflow_id": wf},
    ),
    "/triggers/webhooks": (
        "/triggers/webhooks",
        lambda wf, name: {"name": name, "workflow_id": wf},
    ),
    "/subscriptions": (
        "/subscriptions",
        lambda wf, name: {"url": HOOK, "event_types": ["run.completed"], "description": name},
    ),
    "/agents": ("/agents", lambda wf, name: {"name": name, "url": f"{HOOK}/{name}"}),
    "/groups": ("/groups", lambda wf, name: {"name": name, "members": ["ann"]}),
    "/members": ("/members", lambda wf, name: {"subject": name, "role": "viewer"}),
    "/schedules": (
        "/schedules",
        lambda wf, name: {"name": name, "workflow_id": wf, "spec": {"cron": ["0 9 * * *"]}},
    ),
}


async def _count(client: httpx.AsyncClient, path: str) -> str:
    listed = await client.get(f"{API}{path}")
    assert listed.status_code == 200, listed.text
    return listed.headers["X-Total-Count"]


@pytest.mark.parametrize("path", sorted(MAKERS))
async def test_a_repeated_create_answers_the_first_result_and_makes_nothing(
    client: httpx.AsyncClient, path: str
) -> None:
    listing, make = MAKERS[path]
    workflow_id = await publish(client, ECHO)
    body = make(workflow_id, "first")
    headers = {"X-Idempotency-Key": f"make-{path}"}

    first = await client.post(f"{API}{path}", json=body, headers=headers)
    again = await client.post(f"{API}{path}", json=body, headers=headers)
    other = await client.post(f"{API}{path}", json=make(workflow_id, "second"), headers=headers)

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    assert other.status_code == 422, other.text
    assert other.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await _count(client, listing) == "1"


async def test_a_repeated_event_trigger_starts_one_run_per_event(
    client: httpx.AsyncClient,
) -> None:
    body = MAKERS["/triggers/events"][1](await publish(client, ECHO), "once")
    headers = {"X-Idempotency-Key": "subscribe-once"}
    for _ in range(2):
        made = await client.post(f"{API}/triggers/events", json=body, headers=headers)
        assert made.status_code in (200, 201), made.text

    posted = await client.post(f"{API}/events", json={"name": "order.paid"})

    assert posted.status_code in (200, 201), posted.text
    assert (await client.get(f"{API}/runs")).headers["X-Total-Count"] == "1"


async def test_a_repeated_key_issue_issues_no_second_key(client: httpx.AsyncClient) -> None:
    before = await _count(client, "/api-keys")
    headers = {"X-Idempotency-Key": "issue-once"}
    body = {"name": "ci", "role": "viewer"}

    first = await client.post(f"{API}/api-keys", json=body, headers=headers)
    again = await client.post(f"{API}/api-keys", json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert first.json()["key"].startswith("tp_")
    # Only its hash is kept: the key cannot be shown again, and none other is issued.
    assert again.status_code == 409, again.text
    assert again.json()["error_code"] == "API_KEY_ALREADY_ISSUED"
    assert again.json()["details"] == {"id": first.json()["id"]}
    assert first.json()["key"] not in again.text
    assert int(await _count(client, "/api-keys")) == int(before) + 1


async def test_a_repeated_schedule_tick_answers_the_first_and_starts_one_run(
    client: httpx.AsyncClient,
) -> None:
    body = MAKERS["/schedules"][1](await publish(client, ECHO), "nightly")
    schedule = (await client.post(f"{API}/schedules", json=body)).json()
    url = f"{API}/schedules/{schedule['id']}/trigger"
    headers = {"X-Idempotency-Key": "tick-once"}

    first = await client.post(url, json={"overlap": "allow_all"}, headers=headers)
    again = await client.post(url, json={"overlap": "allow_all"}, headers=headers)

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (await client.get(f"{API}/runs")).headers["X-Total-Count"] == "1"
