"""A workflow's start rate limit, and pausing: the runs past them wait, pending with the
reason, and start when the window allows or the workflow is unpaused."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import TYPE_CHECKING

from tests.flow.conftest import approve, held, per_customer, quick
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx


async def test_runs_past_the_rate_limit_start_as_the_window_allows(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, quick(rate_limit={"runs": 1, "per_seconds": 0.4}))

    runs = [await start(client, workflow_id) for _ in range(3)]
    done = [await wait_for(client, r["id"], "completed") for r in runs]

    assert runs[0]["status"] == "completed"
    assert [r["waiting_for"] for r in runs[1:]] == [{"reason": "rate_limit"}] * 2
    began = sorted(datetime.fromisoformat(d["started_at"]) for d in done)
    # One start in any 0.4 s window.
    assert all((b - a).total_seconds() >= 0.4 for a, b in itertools.pairwise(began))


async def test_unpausing_starts_the_queued_runs_their_slots_allow(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, held(concurrency=per_customer()))
    await client.post(f"{API}/workflows/{workflow_id}/pause")
    first = await start(client, workflow_id, {"customer": "acme"})
    second = await start(client, workflow_id, {"customer": "acme"})

    await client.post(f"{API}/workflows/{workflow_id}/unpause")

    assert first["waiting_for"] == {"reason": "workflow_paused"}
    assert (await wait_for(client, first["id"], "waiting"))["waiting_for"] is None

    # The second waits on, now for the slot its key's first run holds.
    queued = (await client.get(f"{API}/runs/{second['id']}")).json()
    assert queued["waiting_for"] == {"reason": "concurrency", "key": "acme"}
    await approve(client, first["id"])
    assert (await wait_for(client, second["id"], "waiting"))["waiting_for"] is None


async def test_flow_settings_are_checked_before_publishing(client: httpx.AsyncClient) -> None:
    bad = quick(
        concurrency={"limit": 0, "key": "{{ input.a ", "on_full": "drop"},
        rate_limit={"runs": 1},
        priority="high",
    )
    created = await client.post(f"{API}/workflows", json={"name": "wf", "definition": bad})
    workflow_id = created.json()["id"]

    checked = (await client.post(f"{API}/workflows/{workflow_id}/validate")).json()
    refused = await client.post(f"{API}/workflows/{workflow_id}/publish")
    unknown_name = quick(concurrency={"limit": 1, "key": "{{ secrets.TOKEN }}"})
    other = await client.post(f"{API}/workflows", json={"name": "k", "definition": unknown_name})
    other_refused = await client.post(f"{API}/workflows/{other.json()['id']}/publish")

    assert checked["valid"] is False
    paths = {e["path"] for e in checked["issues"] if e["code"] == "invalid_setting"}
    assert {
        "concurrency.limit",
        "concurrency.on_full",
        "rate_limit.per_seconds",
        "priority",
    } <= paths
    assert refused.status_code == 422
    assert (await client.get(f"{API}/workflows/{workflow_id}")).json()["status"] == "draft"
    assert other_refused.status_code == 422
    assert "reads only input" in other_refused.text
