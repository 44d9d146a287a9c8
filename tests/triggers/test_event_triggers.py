"""Event triggers: a posted event starts a run of each subscribed lineage (its newest
published version, or the pinned one) through the filter and input template, resumes the
steps waiting for it in the same post, and an event id makes the post happen once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tests.runs import API, publish, start, wait_for
from tests.tenants import other_workspace
from tests.triggers.events import (
    EVENTS,
    SUBSCRIPTIONS,
    echo,
    new_version,
    post_event,
    subscribe,
    waits_for,
)

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


async def _runs_of(client: httpx.AsyncClient, lineage_id: str) -> list[dict[str, object]]:
    found = await client.get(f"{API}/runs", params={"lineage_id": lineage_id, "per_page": 100})
    assert found.status_code == 200, found.text
    runs: list[dict[str, object]] = found.json()
    return runs


async def test_an_event_starts_the_lineages_newest_version_with_its_data(
    client: httpx.AsyncClient,
) -> None:
    first = await publish(client, echo("v1"))
    trigger = await subscribe(client, first)
    second = await new_version(client, first, echo("v2"))

    answer = await post_event(client, name="order.paid", data={"order": 7})

    assert answer["run_ids"] == []
    assert [s["trigger_id"] for s in answer["started"]] == [trigger["id"]]
    assert answer["started"][0]["workflow_id"] == second
    run = await wait_for(client, answer["started"][0]["run_id"], "completed")
    assert run["context"]["echo"] == {"seen": {"order": 7}, "version": "v2"}
    assert run["trigger_type"] == "event"
    assert run["trigger_id"] == trigger["id"]


async def test_a_pinned_trigger_runs_its_own_version(client: httpx.AsyncClient) -> None:
    first = await publish(client, echo("v1"))
    await subscribe(client, first, pinned=True)
    await new_version(client, first, echo("v2"))

    answer = await post_event(client, name="order.paid")

    run = await wait_for(client, answer["started"][0]["run_id"], "completed")
    assert run["workflow_id"] == first
    assert run["context"]["echo"]["version"] == "v1"


async def test_the_filter_and_the_input_template_shape_what_starts(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, echo("v1"))
    template = {"order": "{{ data.order }}", "from": "{{ name }}:{{ key }}"}
    await subscribe(client, workflow_id, filter="data.amount > 100", input_template=template)

    small = await post_event(client, name="order.paid", key="k", data={"amount": 5, "order": 1})
    big = await post_event(client, name="order.paid", key="k", data={"amount": 500, "order": 2})
    other = await post_event(client, name="order.refunded", data={"amount": 500})

    assert small["started"] == []
    assert other["started"] == []
    run = await wait_for(client, big["started"][0]["run_id"], "completed")
    assert run["input"] == {"order": 2, "from": "order.paid:k"}


async def test_event_data_is_substituted_never_rendered(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, echo("v1"))
    await subscribe(client, workflow_id, input_template={"text": "{{ data.text }}"})

    answer = await post_event(client, name="order.paid", data={"text": "{{ 7*7 }}"})

    run = await wait_for(client, answer["started"][0]["run_id"], "completed")
    assert run["input"] == {"text": "{{ 7*7 }}"}


async def test_a_filter_or_template_that_does_not_parse_is_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, echo("v1"))
    body = {"name": "s", "event_name": "e", "workflow_id": workflow_id}

    bad_filter = await client.post(SUBSCRIPTIONS, json={**body, "filter": "data.amount >"})
    unknown = await client.post(SUBSCRIPTIONS, json={**body, "filter": "secrets.TOKEN"})
    bad_template = await client.post(
        SUBSCRIPTIONS, json={**body, "input_template": {"a": {"b": "{{ data. }}"}}}
    )
    missing = await client.post(SUBSCRIPTIONS, json={**body, "workflow_id": "nope"})

    assert bad_filter.status_code == 422
    assert bad_filter.json()["error_code"] == "EVENT_TRIGGER_INVALID"
    assert bad_filter.json()["details"]["errors"][0]["loc"] == ["body", "filter"]
    assert unknown.status_code == 422
    assert "secrets" in unknown.json()["message"]
    assert bad_template.status_code == 422
    assert bad_template.json()["details"]["errors"][0]["loc"] == ["body", "input_template.a.b"]
    assert missing.status_code == 404
    assert (await client.get(SUBSCRIPTIONS)).headers["X-Total-Count"] == "0"


async def test_a_subscriber_that_cannot_start_is_named_and_stops_no_other(
    client: httpx.AsyncClient,
) -> None:
    typed = {"type": "object", "required": ["order"]}
    strict = await publish(client, echo("strict"), input_schema=typed)
    open_one = await publish(client, echo("open"))
    refused = await subscribe(client, strict)
    accepted = await subscribe(client, open_one)

    answer = await post_event(client, name="order.paid", data={"other": 1})

    assert [s["trigger_id"] for s in answer["started"]] == [accepted["id"]]
    assert answer["refused"] == [
        {
            "trigger_id": refused["id"],
            "error_code": "INPUT_INVALID",
            "message": answer["refused"][0]["message"],
        }
    ]


async def test_an_event_id_makes_the_post_happen_once(client: httpx.AsyncClient) -> None:
    waiting = await publish(client, waits_for("order.paid", "{{ input.order }}"))
    run = await start(client, waiting, {"order": "o-1"})
    await wait_for(client, run["id"], "waiting")
    subscribed = await publish(client, echo("v1"))
    await subscribe(client, subscribed)
    event = {"name": "order.paid", "key": "o-1", "data": {"n": 1}, "id": "evt-1"}

    first = await post_event(client, **event)
    again = await asyncio.gather(*(post_event(client, **event) for _ in range(3)))
    by_header = await client.post(
        EVENTS, json={**event, "id": None}, headers={"X-Idempotency-Key": "evt-1"}
    )
    changed = await client.post(EVENTS, json={**event, "data": {"n": 2}})

    assert first["id"] == "evt-1"
    assert first["run_ids"] == [run["id"]]
    assert len(first["started"]) == 1
    assert all(found == first for found in again)
    assert by_header.json() == first
    assert changed.status_code == 422
    assert changed.json()["error_code"] == "EVENT_ID_REUSED"
    assert len(await _runs_of(client, subscribed)) == 1
    done = await wait_for(client, run["id"], "completed")
    assert done["context"]["wait"]["data"] == {"n": 1}


async def test_one_post_resumes_the_waiting_and_starts_the_subscribers_together(
    client: httpx.AsyncClient,
) -> None:
    waiting = await publish(client, waits_for("order.paid"))
    runs = [await start(client, waiting) for _ in range(3)]
    for run in runs:
        await wait_for(client, run["id"], "waiting")
    subscribed = await publish(client, echo("v1"))
    await subscribe(client, subscribed)
    await subscribe(client, subscribed)

    answer = await post_event(client, name="order.paid", data={"n": 1})

    assert sorted(answer["run_ids"]) == sorted(run["id"] for run in runs)
    assert len(answer["started"]) == 2
    for run in runs:
        assert (await wait_for(client, run["id"], "completed"))["status"] == "completed"
    audit = (await client.get(f"{API}/audit", params={"per_page": 100})).json()
    actions = [entry["action"] for entry in audit]
    assert actions.count("run.event") == 3
    assert actions.count("run.start") == 3 + 2


async def test_triggers_are_the_workspaces_own(app: FastAPI, client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, echo("v1"))
    trigger = await subscribe(client, workflow_id)

    async with other_workspace(app) as other:
        seen = await other.get(f"{SUBSCRIPTIONS}/{trigger['id']}")
        listed = await other.get(SUBSCRIPTIONS)
        posted = await other.post(EVENTS, json={"name": "order.paid"})

    assert seen.status_code == 404
    assert listed.headers["X-Total-Count"] == "0"
    assert posted.json()["started"] == []
    deleted = await client.delete(f"{SUBSCRIPTIONS}/{trigger['id']}")
    assert deleted.status_code == 204
    assert (await post_event(client, name="order.paid"))["started"] == []
