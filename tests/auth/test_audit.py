"""The audit log holds every change of an end-to-end flow: who, what, before and after."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.factories import edge, node, workflow_body
from tests.runs import API, publish, start, wait_for, wait_for_step

if TYPE_CHECKING:
    import httpx


async def test_every_change_of_a_flow_is_in_the_audit_log(client: httpx.AsyncClient) -> None:
    client.headers["X-Request-ID"] = "flow-1"
    draft = (await client.post(f"{API}/workflows", json=workflow_body())).json()
    await client.put(f"{API}/workflows/{draft['id']}", json={"description": "changed"})
    copy = (await client.post(f"{API}/workflows/{draft['id']}/duplicate")).json()
    await client.delete(f"{API}/workflows/{copy['id']}")
    definition = {
        "nodes": [
            node("ask", "approval", {"message": "ship?"}),
            node("paid", "wait_for_event", {"event_name": "payment", "key": "o-1"}),
        ],
        "edges": [edge("ask", "paid")],
    }
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "waiting")
    await client.post(f"{API}/runs/{run['id']}/approve", json={"approved": True})
    await wait_for_step(client, run["id"], "paid", "waiting")
    posted = await client.post(f"{API}/events", json={"name": "payment", "key": "o-1", "data": {}})
    assert posted.json()["run_ids"] == [run["id"]], posted.text
    await wait_for(client, run["id"], "completed")
    other = await start(client, workflow_id)
    await client.post(f"{API}/runs/{other['id']}/cancel", json={"reason": "no"})
    key = (await client.post(f"{API}/api-keys", json={"name": "ci", "role": "viewer"})).json()
    await client.delete(f"{API}/api-keys/{key['id']}")
    member = (await client.post(f"{API}/members", json={"subject": "u", "role": "viewer"})).json()
    await client.put(f"{API}/members/{member['id']}", json={"role": "editor"})
    await client.delete(f"{API}/members/{member['id']}")

    response = await client.get(f"{API}/audit", params={"per_page": 100, "sort": "created_at"})
    # The first entry is the test's own admin key, made on the server's machine.
    made_here, *entries = response.json()

    assert [(e["action"], e["resource_id"]) for e in entries] == [
        ("workflow.create", draft["id"]),
        ("workflow.update", draft["id"]),
        ("workflow.duplicate", copy["id"]),
        ("workflow.delete", copy["id"]),
        ("workflow.create", workflow_id),
        ("workflow.publish", workflow_id),
        ("run.start", run["id"]),
        ("run.approve", run["id"]),
        ("run.event", run["id"]),
        ("run.start", other["id"]),
        ("run.cancel", other["id"]),
        ("api_key.create", key["id"]),
        ("api_key.revoke", key["id"]),
        ("member.add", member["id"]),
        ("member.update", member["id"]),
        ("member.remove", member["id"]),
    ]
    assert (made_here["action"], made_here["actor"]) == ("api_key.create", "towpath")
    assert response.headers["X-Total-Count"] == str(len(entries) + 1)
    assert {e["request_id"] for e in entries} == {"flow-1"}
    assert {e["client_address"] for e in entries} == {"127.0.0.1"}
    assert len({e["actor"] for e in entries}) == 1
    assert entries[0]["actor"].startswith("key:")
    update = entries[1]
    assert (update["before"]["description"], update["after"]["description"]) == (
        "welcomes a user",
        "changed",
    )
    assert "definition_sha256" in update["after"]
    assert entries[10]["before"]["status"] in ("running", "waiting")
    assert entries[10]["after"]["status"] == "cancelled"
    assert "key_hash" not in entries[11]["after"]


async def test_the_audit_log_filters_and_pages(client: httpx.AsyncClient) -> None:
    for name in ("a", "b", "c"):
        await client.post(f"{API}/workflows", json=workflow_body(name))
    await client.post(f"{API}/members", json={"subject": "x", "role": "viewer"})

    page = await client.get(f"{API}/audit", params={"action": "workflow.create", "per_page": 2})
    members = await client.get(f"{API}/audit", params={"resource_type": "member"})
    nothing = await client.get(f"{API}/audit", params={"since": "2999-01-01T00:00:00Z"})

    assert page.headers["X-Total-Count"] == "3"
    assert len(page.json()) == 2
    assert [e["action"] for e in members.json()] == ["member.add"]
    assert nothing.json() == []


async def test_a_refused_change_leaves_no_audit_row(client: httpx.AsyncClient) -> None:
    definition = {"nodes": [node("t", "transform", {"output": {}})], "edges": []}
    workflow_id = await publish(client, definition)
    before = (await client.get(f"{API}/audit")).headers["X-Total-Count"]

    # A published workflow is never deleted.
    refused = await client.delete(f"{API}/workflows/{workflow_id}")

    assert refused.status_code == 409
    assert (await client.get(f"{API}/audit")).headers["X-Total-Count"] == before
