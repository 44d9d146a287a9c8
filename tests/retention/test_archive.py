"""An archived workflow version starts no run, whoever asks (a person, a webhook, a
schedule), while its runs in flight finish; it is still read and listed, and
unarchiving it lets it start runs again."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.retention.trees import NOOP, WAITS, audit
from tests.runs import API, publish, start, wait_for
from tests.triggers.hooks import make_trigger, standard_signed

if TYPE_CHECKING:
    import httpx

BODY = json.dumps({"n": 1}).encode()


async def test_an_archived_version_starts_no_run_until_unarchived(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    workflow_id = await publish(client, WAITS)
    in_flight = await start(client, workflow_id)
    await wait_for(client, in_flight["id"], "waiting")
    hook = await make_trigger(client, workflow_id, pinned=True)
    schedule = await client.post(
        f"{API}/schedules",
        json={"name": "hourly", "workflow_id": workflow_id, "spec": {"cron": ["0 * * * *"]}},
    )
    assert schedule.status_code == 201, schedule.text

    archived = await client.post(f"{API}/workflows/{workflow_id}/archive")
    by_hand = await client.post(f"{API}/workflows/{workflow_id}/run", json={"input": {}})
    by_hook = await sender.post(
        hook["path"], content=BODY, headers=standard_signed(hook["secret"], BODY)
    )
    by_schedule = await client.post(f"{API}/schedules/{schedule.json()['id']}/trigger")

    assert archived.status_code == 200, archived.text
    assert archived.json()["archived"] is True
    assert by_hand.status_code == 409
    assert by_hand.json()["error_code"] == "WORKFLOW_ARCHIVED"
    details = by_hand.json()["details"]
    assert details["id"] == workflow_id
    assert details["archived"] is True
    assert details["archived_at"] == archived.json()["archived_at"].replace("Z", "+00:00")
    assert by_hook.status_code == 409, by_hook.text
    assert by_hook.json()["error_code"] == "WORKFLOW_ARCHIVED"
    assert by_schedule.json()["outcome"] == "failed", by_schedule.text
    assert "archived" in by_schedule.json()["detail"]
    # Still read and listed; its run in flight goes on to its end.
    assert (await client.get(f"{API}/workflows/{workflow_id}")).json()["archived"] is True
    [listed] = (await client.get(f"{API}/workflows")).json()
    assert listed["archived"] is True
    approved = await client.post(f"{API}/runs/{in_flight['id']}/approve", json={"approved": True})
    assert approved.status_code == 200, approved.text
    await wait_for(client, in_flight["id"], "completed")
    # A retry would start the ended run again.
    again = await client.post(f"{API}/runs/{in_flight['id']}/retry", json={"from_step": "ask"})
    assert again.status_code == 409, again.text
    assert again.json()["error_code"] == "WORKFLOW_ARCHIVED"

    unarchived = await client.post(f"{API}/workflows/{workflow_id}/unarchive")

    assert unarchived.json()["archived"] is False
    assert unarchived.json()["archived_at"] is None
    assert (await start(client, workflow_id))["status"] in ("pending", "running", "waiting")
    [archive] = await audit(client, "workflow.archive")
    [unarchive] = await audit(client, "workflow.unarchive")
    assert archive["resource_id"] == workflow_id
    assert (archive["before"]["archived_at"], unarchive["after"]["archived_at"]) == (None, None)
    assert archive["after"]["archived_at"] is not None


async def test_only_a_published_version_is_archived_and_each_version_alone(
    client: httpx.AsyncClient,
) -> None:
    first = await publish(client, NOOP)
    draft = (await client.post(f"{API}/workflows/{first}/duplicate")).json()["id"]

    refused = await client.post(f"{API}/workflows/{draft}/archive")
    await client.post(f"{API}/workflows/{draft}/publish")
    await client.post(f"{API}/workflows/{draft}/archive")
    twice = await client.post(f"{API}/workflows/{draft}/archive")

    assert refused.status_code == 409
    assert refused.json()["error_code"] == "WORKFLOW_NOT_PUBLISHED"
    assert twice.status_code == 200
    assert len(await audit(client, "workflow.archive")) == 1
    assert (await start(client, first))["status"] == "completed"
    versions = (await client.get(f"{API}/workflows/{first}/versions")).json()
    assert [(v["version"], v["archived"]) for v in versions] == [(1, False), (2, True)]
