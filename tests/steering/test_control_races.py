"""Control actions sent at once through two API processes on one database (two apps, one
without a worker): the run row's lock serialises them, so exactly one transition happens
and the other request answers from the state the first one left."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.factories import edge, node
from tests.runs import API, admin_headers, event_types, publish, start, steps_by_id, wait_for
from tests.steering.conftest import waiting_run
from towpath.app import create_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from towpath.config import Settings


@pytest.fixture
async def second(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a second API process: its own app, engine and connections."""
    other = create_app(settings.model_copy(update={"run_worker": False}))
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other, raise_app_exceptions=False)
        headers = await admin_headers(other)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://second.test", headers=headers
        ) as c:
            yield c


async def test_two_approvals_through_two_processes_decide_once(
    client: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(client, quorum=1)
    url = f"{API}/runs/{run_id}/approve"

    answers = await asyncio.gather(
        client.post(url, json={"step_id": "review", "approved": True}),
        second.post(url, json={"step_id": "review", "approved": False}),
    )

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409).json()
    assert loser["error_code"] == "NO_WAITING_STEP"
    assert loser["details"]["step_status"] == "completed"
    await wait_for(client, run_id, "completed")
    types = await event_types(client, run_id)
    assert types.count("approval.vote") == 1
    assert types.count("approval.approved") + types.count("approval.rejected") == 1


def _failing() -> dict[str, Any]:
    """`check` fails until the run's input has `ok`; `after` then runs."""
    return {
        "nodes": [
            node("check", "transform", {"output": {"ok": "{{ input.ok }}"}}),
            node("after", "transform", {"output": {"done": True}}),
        ],
        "edges": [edge("check", "after")],
    }


async def test_a_retry_racing_a_cancel_on_a_failed_run_makes_one_consistent_history(
    client: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    run = await start(client, await publish(client, _failing()))
    await wait_for(client, run["id"], "failed")
    base = f"{API}/runs/{run['id']}"
    fixed = {"input_overrides": {"input": {"ok": True}}}

    retried, cancelled = await asyncio.gather(
        client.post(f"{base}/retry", json=fixed), second.post(f"{base}/cancel")
    )

    # The cancel alone cannot win: a failed run is never cancelled. It either came first
    # (409, the run still failed) or after the retry (the retried run, cancelled or done).
    assert retried.status_code == 200, retried.text
    done = await wait_for(client, run["id"], "completed", "cancelled")
    types = await event_types(client, run["id"])
    assert types.count("run.retried") == 1
    steps = await steps_by_id(client, run["id"])
    if cancelled.status_code == 409:
        assert cancelled.json()["details"]["status"] in ("failed", "completed")
        assert done["status"] == "completed"
        assert "run.cancelled" not in types
        assert {s["status"] for s in steps.values()} == {"completed"}
    else:
        assert cancelled.status_code == 200, cancelled.text
        assert done["status"] == "cancelled"
        assert types.index("run.retried") < types.index("run.cancelled")
        assert not {s["status"] for s in steps.values()} - {"completed", "cancelled"}
    assert done["input"] == {"ok": True}


async def test_two_retries_through_two_processes_retry_once(
    client: httpx.AsyncClient, second: httpx.AsyncClient
) -> None:
    definition = _failing()
    definition["nodes"][1] = node("after", "approval", {"message": "ok?"})
    run = await start(client, await publish(client, definition))
    await wait_for(client, run["id"], "failed")
    url = f"{API}/runs/{run['id']}/retry"
    fixed = {"input_overrides": {"input": {"ok": True}}}

    answers = await asyncio.gather(client.post(url, json=fixed), second.post(url, json=fixed))

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409).json()
    assert loser["error_code"] == "INVALID_RUN_STATE"
    assert loser["details"]["status"] in ("running", "waiting")
    await wait_for(client, run["id"], "waiting")
    types = await event_types(client, run["id"])
    assert types.count("run.retried") == 1
    steps = await steps_by_id(client, run["id"])
    assert steps["check"]["attempt"] == 2
