"""`delay.until` is bounded as `seconds` is, and no time in it is ever a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.factories import node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx


def _delay(until: str) -> dict[str, object]:
    return {"nodes": [node("wait", "delay", {"until": until})], "edges": []}


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59-01:00", "9999-12-31T23:00:00-02:00"])
async def test_a_time_past_the_last_one_kept_is_a_validation_error(
    client: httpx.AsyncClient, until: str
) -> None:
    created = await client.post(f"{API}/workflows", json={"name": "w", "definition": _delay(until)})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    checked = await client.post(f"{API}/workflows/{workflow_id}/validate")
    assert checked.status_code == 200, checked.text
    assert not checked.json()["valid"]
    assert "past the last time" in " ".join(checked.json()["errors"])
    published = await client.post(f"{API}/workflows/{workflow_id}/publish")
    assert published.status_code == 422, published.text


@pytest.mark.parametrize(
    "until", ["9999-12-31T23:59:59+00:00", "2999-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00"]
)
async def test_an_until_more_than_366_days_away_fails_the_step_when_it_runs(
    client: httpx.AsyncClient, until: str
) -> None:
    workflow_id = await publish(client, _delay("{{ input.until }}"))
    run = await start(client, workflow_id, {"until": until})
    done = await wait_for(client, run["id"], "completed", "failed")
    assert done["status"] == "failed"
    error = (await steps_by_id(client, run["id"]))["wait"]["error"]
    assert "366 days" in error or "past the last time" in error, error


async def test_an_until_within_the_bound_waits_and_one_past_completes(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, _delay("{{ input.until }}"))
    later = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    waiting = await start(client, workflow_id, {"until": later})

    async def parked() -> bool:
        return "step.delayed" in await event_types(client, waiting["id"])

    await eventually(parked, 10, "the delay parked")
    assert (await client.get(f"{API}/runs/{waiting['id']}")).json()["status"] == "running"
    past = await start(client, workflow_id, {"until": "2000-01-01T00:00:00+05:00"})
    assert (await wait_for(client, past["id"], "completed", "failed"))["status"] == "completed"
