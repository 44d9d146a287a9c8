"""Managing outgoing webhook subscriptions: the secret shown once, bad input named,
the workflow filter kept as a lineage, roles, workspaces and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.runs import API, publish
from tests.tenants import other_workspace
from tests.triggers.hooks import ECHO
from tests.triggers.receiver import SUBSCRIPTIONS, subscribe
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

URL = "https://receiver.example.com/hooks"


def _field_errors(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [problem["loc"] for problem in response.json()["details"]["errors"]]


async def test_the_secret_is_shown_only_when_made(client: httpx.AsyncClient) -> None:
    made = await subscribe(client, URL, ["run.completed", "run.failed"], description="ops")

    got = await client.get(f"{SUBSCRIPTIONS}/{made['id']}")
    listed = await client.get(SUBSCRIPTIONS)
    audit = await client.get(f"{API}/audit")

    assert made["secret"].startswith("whsec_")
    assert made["enabled"] is True
    assert made["event_types"] == ["run.completed", "run.failed"]
    assert made["workflow_id"] is None
    assert got.status_code == 200
    assert "secret" not in got.json()
    assert made["secret"] not in got.text + listed.text + audit.text
    assert listed.headers["X-Total-Count"] == "1"
    assert [e["action"] for e in audit.json()][:1] == ["subscription.create"]


async def test_bad_input_is_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    unknown_type = await client.post(SUBSCRIPTIONS, json={"url": URL, "event_types": ["run.nope"]})
    not_http = await client.post(
        SUBSCRIPTIONS, json={"url": "ftp://example.com/x", "event_types": ["run.completed"]}
    )
    no_host = await client.post(
        SUBSCRIPTIONS, json={"url": "https:///x", "event_types": ["run.completed"]}
    )
    no_types = await client.post(SUBSCRIPTIONS, json={"url": URL, "event_types": []})
    unknown_field = await client.post(
        SUBSCRIPTIONS, json={"url": URL, "event_types": ["run.completed"], "secret": "mine"}
    )

    assert _field_errors(unknown_type) == [["body", "event_types", 0]]
    assert _field_errors(not_http) == [["body", "url"]]
    assert _field_errors(no_host) == [["body", "url"]]
    assert _field_errors(no_types) == [["body", "event_types"]]
    assert _field_errors(unknown_field) == [["body", "secret"]]
    assert (await client.get(SUBSCRIPTIONS)).json() == []


async def test_a_workflow_filter_names_the_lineage(client: httpx.AsyncClient) -> None:
    first = await publish(client, ECHO)
    second = await client.post(f"{API}/workflows/{first}/duplicate")
    assert second.status_code == 201, second.text
    newer = second.json()["id"]

    made = await subscribe(client, URL, ["run.completed"], workflow_id=newer)
    missing = await client.post(
        SUBSCRIPTIONS, json={"url": URL, "event_types": ["run.completed"], "workflow_id": "nope"}
    )

    assert made["workflow_id"] == first
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "WORKFLOW_NOT_FOUND"


async def test_a_change_names_only_what_changes(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ECHO)
    made = await subscribe(client, URL, ["run.completed"], workflow_id=workflow_id)
    path = f"{SUBSCRIPTIONS}/{made['id']}"

    changed = await client.patch(path, json={"event_types": ["step.waiting", "step.waiting"]})
    widened = await client.patch(path, json={"workflow_id": None})
    paused = await client.patch(path, json={"enabled": False})
    bad = await client.patch(path, json={"url": "mailto:a@example.com"})

    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["step.waiting"]
    assert changed.json()["workflow_id"] == workflow_id
    assert changed.json()["url"] == URL
    assert widened.json()["workflow_id"] is None
    assert paused.json()["enabled"] is False
    assert paused.json()["disabled_reason"].startswith("disabled by ")
    assert _field_errors(bad) == [["body", "url"]]
    resumed = await client.patch(path, json={"enabled": True})
    assert (resumed.json()["enabled"], resumed.json()["disabled_reason"]) == (True, None)
    described = await client.patch(path, json={"description": "billing"})
    assert described.json()["description"] == "billing"
    updates = await client.get(f"{API}/audit", params={"action": "subscription.update"})
    entry = updates.json()[0]
    assert (entry["before"]["description"], entry["after"]["description"]) == ("", "billing")


async def test_rotation_shows_a_new_secret_once(client: httpx.AsyncClient) -> None:
    made = await subscribe(client, URL, ["run.completed"])

    rotated = await client.post(
        f"{SUBSCRIPTIONS}/{made['id']}/rotate-secret", json={"overlap_seconds": 60}
    )

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != made["secret"]
    assert rotated.json()["previous_expires_at"] is not None
    assert rotated.json()["rotated_at"] is not None


async def test_a_deleted_subscription_is_gone(client: httpx.AsyncClient) -> None:
    made = await subscribe(client, URL, ["run.completed"])

    deleted = await client.delete(f"{SUBSCRIPTIONS}/{made['id']}")

    assert deleted.status_code == 204
    assert (await client.get(f"{SUBSCRIPTIONS}/{made['id']}")).status_code == 404
    assert (await client.get(f"{SUBSCRIPTIONS}/{made['id']}/deliveries")).status_code == 404
    assert (await client.delete(f"{SUBSCRIPTIONS}/{made['id']}")).status_code == 404


async def test_another_workspace_sees_none_of_it(client: httpx.AsyncClient, app: FastAPI) -> None:
    made = await subscribe(client, URL, ["run.completed"])
    path = f"{SUBSCRIPTIONS}/{made['id']}"

    async with other_workspace(app) as neighbour:
        answers = [
            await neighbour.get(path),
            await neighbour.get(f"{path}/deliveries"),
            await neighbour.patch(path, json={"enabled": False}),
            await neighbour.post(f"{path}/rotate-secret"),
            await neighbour.delete(path),
        ]
        listed = await neighbour.get(SUBSCRIPTIONS)

    assert [a.status_code for a in answers] == [404] * 5
    assert answers[0].json()["error_code"] == "SUBSCRIPTION_NOT_FOUND"
    assert listed.json() == []
    assert (await client.get(path)).json()["enabled"] is True


async def test_a_viewer_reads_but_does_not_manage(client: httpx.AsyncClient, app: FastAPI) -> None:
    made = await subscribe(client, URL, ["run.completed"])
    issued = await issue_workspace_key(app.state.db, "viewer", "viewer")
    viewer = {"Authorization": f"Bearer {issued.plaintext}"}
    path = f"{SUBSCRIPTIONS}/{made['id']}"

    read = await client.get(path, headers=viewer)
    deliveries = await client.get(f"{path}/deliveries", headers=viewer)
    create = await client.post(
        SUBSCRIPTIONS, json={"url": URL, "event_types": ["run.completed"]}, headers=viewer
    )
    change = await client.patch(path, json={"enabled": False}, headers=viewer)
    rotate = await client.post(f"{path}/rotate-secret", headers=viewer)
    delete = await client.delete(path, headers=viewer)

    assert (read.status_code, deliveries.status_code) == (200, 200)
    assert [r.status_code for r in (create, change, rotate, delete)] == [403] * 4
