"""Outgoing deliveries end to end, through a real receiver: signed, in seq order per run,
none lost when the receiver fails then recovers, nor when the server restarts mid-retry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.factories import edge, node
from tests.runs import API, admin_headers, publish, start, wait_for
from tests.triggers.receiver import (
    Receiver,
    deliveries_of,
    hook_name,
    receiver,
    seqs_by_run,
    subscribe,
    verify,
)
from tests.waiting import eventually
from towpath.app import create_app

if TYPE_CHECKING:
    from fastapi import FastAPI

    from towpath.config import Settings

__all__ = ["receiver"]

CHAIN = {
    "nodes": [
        node("one", "transform", {"output": {"n": 1}}),
        node("two", "transform", {"output": {"n": 2}}),
    ],
    "edges": [edge("one", "two")],
}
EVERY_STEP = ["run.started", "step.started", "step.completed", "run.completed"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Retries a tenth of a second apart: the tests wait on outcomes, never on the schedule.
    return settings.model_copy(
        update={"outbox_retry_seconds": [0.1] * 50, "outbox_poll_seconds": 0.05}
    )


async def _wanted(client: httpx.AsyncClient, run_id: str, types: list[str]) -> list[int]:
    """The seqs of the run's events of these types, as its event log holds them."""
    events = (await client.get(f"{API}/runs/{run_id}/events")).json()
    return [e["seq"] for e in events if e["event_type"] in types]


async def _settled(client: httpx.AsyncClient, subscription_id: str) -> list[dict[str, Any]]:
    """The subscription's deliveries once none is pending any more."""
    listed: list[dict[str, Any]] = []

    async def settled() -> bool:
        nonlocal listed
        listed = await deliveries_of(client, subscription_id)
        return all(d["status"] != "pending" for d in listed)

    await eventually(settled, what="no pending delivery")
    return listed


async def test_events_are_delivered_signed_and_in_order(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    name = hook_name()
    workflow_id = await publish(client, CHAIN)
    made = await subscribe(client, receiver.url_for(name), EVERY_STEP)

    run = await start(client, workflow_id, {"x": 1})
    wanted = await _wanted(client, run["id"], EVERY_STEP)
    await eventually(lambda: len(receiver.accepted(name)) == len(wanted), what="every delivery")

    got = receiver.accepted(name)
    assert seqs_by_run(got) == {run["id"]: wanted}
    assert all(verify(made["secret"], r.headers, r.body) for r in got)
    first = got[0]
    assert first.headers["content-type"] == "application/json"
    assert first.headers["webhook-id"] == f"msg_{run['id']}_{wanted[0]}"
    assert first.json["type"] == "run.started"
    assert set(first.json) == {"type", "timestamp", "data"}
    assert first.json["data"]["workflow_id"] == workflow_id
    completed = got[-1].json
    assert completed["type"] == "run.completed"
    assert completed["data"]["step_id"] is None
    step = next(r.json for r in got if r.json["type"] == "step.completed")
    assert step["data"]["step_id"] == "one"
    listed = await _settled(client, made["id"])
    assert {d["status"] for d in listed} == {"delivered"}
    assert all(d["attempt_count"] == 1 for d in listed)
    assert listed[0]["attempts"][0]["status_code"] == 200
    assert listed[0]["attempts"][0]["latency_ms"] is not None


async def test_only_the_chosen_types_and_workflow_are_delivered(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    name = hook_name()
    chosen = await publish(client, CHAIN, name="chosen")
    other = await publish(client, CHAIN, name="other")
    newer = (await client.post(f"{API}/workflows/{chosen}/duplicate")).json()["id"]
    assert (await client.post(f"{API}/workflows/{newer}/publish")).status_code == 200
    await subscribe(client, receiver.url_for(name), ["run.completed"], workflow_id=chosen)

    runs = [await start(client, wf) for wf in (chosen, other, newer)]
    for run in runs:
        await wait_for(client, run["id"], "completed")
    await eventually(lambda: len(receiver.accepted(name)) == 2, what="two deliveries")

    got = {r.json["data"]["run_id"]: r.json["type"] for r in receiver.accepted(name)}
    assert got == {runs[0]["id"]: "run.completed", runs[2]["id"]: "run.completed"}


async def test_a_waiting_step_is_delivered(client: httpx.AsyncClient, receiver: Receiver) -> None:
    name = hook_name()
    ask = {"nodes": [node("ask", "approval", {"message": "ship it?"})], "edges": []}
    workflow_id = await publish(client, ask)
    await subscribe(client, receiver.url_for(name), ["step.waiting"])

    run = await start(client, workflow_id)
    await eventually(lambda: len(receiver.accepted(name)) == 1, what="the waiting step")

    sent = receiver.accepted(name)[0].json
    assert sent["data"]["run_id"] == run["id"]
    assert sent["data"]["step_id"] == "ask"


async def _failing_then_recovered(
    client: httpx.AsyncClient, receiver: Receiver, name: str, runs: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    workflow_id = await publish(client, CHAIN)
    made = await subscribe(client, receiver.url_for(name), EVERY_STEP)
    receiver.status = 503
    started = [await start(client, workflow_id, {"n": n}) for n in range(runs)]
    # Every run's first event has been refused at least twice: later ones wait behind it.
    await eventually(lambda: receiver.refused(name) >= 2 * runs, what="refused attempts")
    return made, started


async def _all_delivered_in_order(
    client: httpx.AsyncClient, receiver: Receiver, name: str, runs: list[dict[str, Any]]
) -> None:
    wanted = {run["id"]: await _wanted(client, run["id"], EVERY_STEP) for run in runs}
    total = sum(len(seqs) for seqs in wanted.values())

    await eventually(
        lambda: len(receiver.accepted(name)) >= total, seconds=30, what="every delivery"
    )

    # At least once: a send whose result was lost may come again, but only where it was.
    assert {
        run: sorted(set(seqs)) for run, seqs in seqs_by_run(receiver.accepted(name)).items()
    } == wanted
    for seqs in seqs_by_run(receiver.accepted(name)).values():
        assert seqs == sorted(seqs), "a run's events arrived out of order"


async def test_a_receiver_that_fails_then_recovers_gets_every_event_in_order(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    name = hook_name()
    made, runs = await _failing_then_recovered(client, receiver, name, runs=3)
    # Nothing after a run's first event went out while it was failing.
    assert all(r.json["type"] == "run.started" for r in receiver.requests)

    receiver.status = 200
    await _all_delivered_in_order(client, receiver, name, runs)

    listed = await _settled(client, made["id"])
    assert {d["status"] for d in listed} == {"delivered"}
    retried = [d for d in listed if d["event_type"] == "run.started"]
    assert all(d["attempt_count"] >= 3 for d in retried)
    failed = retried[0]["attempts"][0]
    assert (failed["outcome"], failed["status_code"]) == ("failed", 503)
    assert "the receiver is down" in failed["error"]
    assert retried[0]["attempts"][-1]["outcome"] == "delivered"


async def test_deliveries_survive_a_restart_mid_retry(
    settings: Settings, receiver: Receiver
) -> None:
    name = hook_name()
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        headers = await admin_headers(first)
        async with _client(first, headers) as client:
            _, runs = await _failing_then_recovered(client, receiver, name, runs=2)
    # The server stopped mid-retry, with nothing delivered; the receiver recovers meanwhile.
    assert receiver.accepted(name) == []
    receiver.status = 200

    second = create_app(settings)
    async with second.router.lifespan_context(second), _client(second, headers) as client:
        await _all_delivered_in_order(client, receiver, name, runs)


def _client(app: FastAPI, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://towpath.test", headers=headers)


async def test_an_address_the_egress_guard_refuses_is_never_sent_to(
    settings: Settings, receiver: Receiver
) -> None:
    name = hook_name()
    guarded = create_app(settings.model_copy(update={"step_allowed_hosts": []}))
    async with (
        guarded.router.lifespan_context(guarded),
        _client(guarded, await admin_headers(guarded)) as client,
    ):
        workflow_id = await publish(client, CHAIN)
        made = await subscribe(client, receiver.url_for(name), ["run.completed"])
        await start(client, workflow_id)

        async def refused() -> bool:
            listed = await deliveries_of(client, made["id"])
            return bool(listed) and listed[0]["attempt_count"] >= 2

        await eventually(refused, what="refused attempts")
        attempt = (await deliveries_of(client, made["id"]))[0]["attempts"][0]

    assert receiver.requests == []
    assert attempt["outcome"] == "refused"
    assert attempt["status_code"] is None
    assert "refusing to connect to 127.0.0.1" in attempt["error"]
    assert json.dumps(attempt)  # listed as plain JSON
