"""Managing schedules over the API: refused input stores nothing, the founding path makes
or changes, the detail shows what comes next, roles and workspaces hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.runs import API, publish, wait_for
from tests.tenants import other_workspace
from tests.triggers.schedules import ECHO, SCHEDULES, body, make_schedule
from tests.waiting import eventually
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from fastapi import FastAPI

BAD = [
    ({"spec": {"cron": ["61 * * * *"]}}, "spec.cron[0]"),
    # Parses, but no date has a 31st of February.
    ({"spec": {"cron": ["0 9 * * *", "0 0 31 2 *"]}}, "spec.cron[1]"),
    ({"spec": {"cron": ["0 9 * * *"], "timezone": "Mars/Olympus"}}, "spec.timezone"),
    ({"spec": {"cron": []}}, "spec.cron"),
]


@pytest.mark.parametrize(("fields", "field"), BAD)
async def test_a_spec_that_cannot_fire_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, fields: dict[str, Any], field: str
) -> None:
    refused = await client.post(SCHEDULES, json=body(await publish(client, ECHO), **fields))

    assert refused.status_code == 422, refused.text
    assert refused.json()["error_code"] == "SCHEDULE_INVALID"
    assert refused.json()["details"]["field"] == field
    assert (await client.get(SCHEDULES)).headers["X-Total-Count"] == "0"


async def test_an_input_the_workflow_would_refuse_is_refused_and_nothing_stored(
    client: httpx.AsyncClient,
) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    workflow_id = await publish(client, ECHO, input_schema=schema)

    refused = await client.post(SCHEDULES, json=body(workflow_id, input={"n": "two"}))
    made = await client.post(SCHEDULES, json=body(workflow_id, input={"n": 2}))
    changed = await client.put(f"{SCHEDULES}/{made.json()['id']}", json=body(workflow_id, input={}))

    # Every tick would have failed: a start checks the input against the same schema.
    assert refused.status_code == 422, refused.text
    assert refused.json()["error_code"] == "INPUT_INVALID"
    assert made.status_code == 201, made.text
    assert changed.status_code == 422, changed.text
    assert (await client.get(f"{SCHEDULES}/{made.json()['id']}")).json()["input"] == {"n": 2}
    assert (await client.get(SCHEDULES)).headers["X-Total-Count"] == "1"


async def test_an_unknown_overlap_policy_or_a_draft_is_refused(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ECHO)
    policy = await client.post(SCHEDULES, json=body(workflow_id, overlap="sometimes"))
    draft = await client.post(f"{API}/workflows", json={"name": "d", "definition": ECHO})
    of_draft = await client.post(SCHEDULES, json=body(draft.json()["id"]))
    pinned = await client.post(
        SCHEDULES, json=body(workflow_id, version_id=draft.json()["id"], name="pinned")
    )

    assert policy.status_code == 422
    assert "overlap" in policy.json()["details"]["errors"][0]["loc"]
    assert of_draft.status_code == 422
    assert of_draft.json()["details"]["field"] == "workflow_id"
    assert pinned.status_code == 422
    assert pinned.json()["details"]["field"] == "version_id"
    assert (await client.get(SCHEDULES)).headers["X-Total-Count"] == "0"


async def test_the_founding_path_makes_then_changes_by_name(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ECHO)
    path = f"{API}/triggers/schedule"

    made = await client.post(path, json=body(workflow_id, spec={"cron": ["0 9 * * *"]}))
    changed = await client.post(path, json=body(workflow_id, spec={"cron": ["0 10 * * *"]}))

    assert made.status_code == 201, made.text
    assert changed.status_code == 200, changed.text
    assert changed.json()["id"] == made.json()["id"]
    assert changed.json()["spec"]["cron"] == ["0 10 * * *"]
    assert (await client.get(SCHEDULES)).headers["X-Total-Count"] == "1"
    audit = (await client.get(f"{API}/audit")).json()
    assert {"schedule.create", "schedule.update"} <= {entry["action"] for entry in audit}


async def test_the_detail_shows_the_next_five_times_in_the_zone(
    client: httpx.AsyncClient,
) -> None:
    spec = {"cron": ["30 8 * * 1-5"], "timezone": "Europe/Berlin"}
    made = await make_schedule(client, await publish(client, ECHO), spec=spec)

    found = (await client.get(f"{SCHEDULES}/{made['id']}")).json()

    upcoming = [datetime.fromisoformat(moment) for moment in found["upcoming"]]
    assert len(upcoming) == 5
    assert upcoming == sorted(upcoming)
    assert upcoming[0] > datetime.now(UTC)
    assert found["next_fire_at"] == found["upcoming"][0]
    for moment in upcoming:
        local = moment.astimezone(ZoneInfo("Europe/Berlin"))
        assert (local.hour, local.minute) == (8, 30)
        assert local.weekday() < 5
    assert found["recent"] == []


async def test_fire_now_starts_a_run_that_records_its_tick(client: httpx.AsyncClient) -> None:
    made = await make_schedule(client, await publish(client, ECHO), input={"n": 7})

    fired = await client.post(f"{SCHEDULES}/{made['id']}/trigger")
    run = await wait_for(client, fired.json()["run_id"], "completed")
    found = (await client.get(f"{SCHEDULES}/{made['id']}")).json()
    listed = await client.get(f"{SCHEDULES}/{made['id']}/fires")

    assert fired.status_code == 201, fired.text
    assert fired.json()["outcome"] == "started"
    assert fired.json()["source"] == "trigger"
    assert run["trigger_type"] == "schedule"
    assert run["trigger_id"] == made["id"]
    assert run["input"] == {"n": 7}
    assert run["scheduled_at"] == fired.json()["scheduled_at"]
    assert found["recent"][0]["run_id"] == run["id"]
    assert listed.headers["X-Total-Count"] == "1"


async def test_pause_and_unpause(client: httpx.AsyncClient) -> None:
    made = await make_schedule(client, await publish(client, ECHO))

    paused = await client.post(f"{SCHEDULES}/{made['id']}/pause", json={"reason": "holiday"})
    unpaused = await client.post(f"{SCHEDULES}/{made['id']}/unpause")

    assert paused.json()["paused"] is True
    assert paused.json()["paused_reason"] == "holiday"
    assert unpaused.json()["paused"] is False
    assert unpaused.json()["paused_reason"] is None
    assert datetime.fromisoformat(unpaused.json()["next_fire_at"]) > datetime.now(UTC)


async def test_update_and_delete(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ECHO)
    made = await make_schedule(client, workflow_id)
    start = (datetime.now(UTC) + timedelta(days=400)).replace(microsecond=0)
    spec = {"intervals": [{"every_seconds": 3600}], "start_at": start.isoformat()}

    changed = await client.put(f"{SCHEDULES}/{made['id']}", json=body(workflow_id, spec=spec))
    deleted = await client.delete(f"{SCHEDULES}/{made['id']}")
    gone = await client.get(f"{SCHEDULES}/{made['id']}")

    assert changed.status_code == 200, changed.text
    assert datetime.fromisoformat(changed.json()["next_fire_at"]) == start
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json()["error_code"] == "SCHEDULE_NOT_FOUND"


async def test_another_workspace_sees_no_schedule(app: FastAPI, client: httpx.AsyncClient) -> None:
    made = await make_schedule(client, await publish(client, ECHO))

    async with other_workspace(app) as neighbour:
        got = await neighbour.get(f"{SCHEDULES}/{made['id']}")
        fired = await neighbour.post(f"{SCHEDULES}/{made['id']}/trigger")
        listed = await neighbour.get(SCHEDULES)

    assert got.status_code == 404
    assert fired.status_code == 404
    assert listed.headers["X-Total-Count"] == "0"


async def test_a_viewer_reads_and_an_operator_fires_but_neither_edits(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    workflow_id = await publish(client, ECHO)
    made = await make_schedule(client, workflow_id)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    answers = {}
    for role in ("viewer", "operator"):
        issued = await issue_workspace_key(app.state.db, role, role)
        headers = {"Authorization": f"Bearer {issued.plaintext}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://towpath.test", headers=headers
        ) as other:
            answers[role] = (
                (await other.get(f"{SCHEDULES}/{made['id']}")).status_code,
                (await other.post(SCHEDULES, json=body(workflow_id, name="x"))).status_code,
                (await other.post(f"{SCHEDULES}/{made['id']}/trigger")).status_code,
            )

    assert answers == {"viewer": (200, 403, 403), "operator": (200, 403, 201)}


async def test_the_servers_own_scheduler_takes_the_ticks(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    spec = {"intervals": [{"every_seconds": 1}]}
    made = await make_schedule(client, await publish(client, ECHO), spec=spec, overlap="allow_all")

    async def two_runs() -> bool:
        listed = await client.get(f"{SCHEDULES}/{made['id']}/fires")
        return sum(1 for fire in listed.json() if fire["run_status"] == "completed") >= 2

    await eventually(two_runs, 30, "two ticks taken by the app's scheduler")
    await client.post(f"{SCHEDULES}/{made['id']}/pause")
