"""Workspace groups: admins keep them, every role reads them, each change is audited, and
an approval naming `group:<name>` that its own `groups` does not define takes the
workspace group's members as it starts to wait."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.inbox.conftest import publish_review, waiting
from tests.runs import API, steps_by_id, wait_for
from tests.steering.conftest import decide, new_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


async def test_admins_keep_groups_viewers_read_them_and_each_change_is_audited(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = await client.post(
        f"{API}/groups", json={"name": "finance", "members": ["user:ana", "key:k1", "user:ana"]}
    )
    assert created.status_code == 201, created.text
    assert created.json()["members"] == ["user:ana", "key:k1"]
    viewer = await new_key(app, "viewer")
    read = await client.get(f"{API}/groups/finance", headers=viewer.headers)
    assert read.status_code == 200, read.text
    assert read.json()["id"] == created.json()["id"]
    refused = await client.put(
        f"{API}/groups/finance", json={"members": []}, headers=viewer.headers
    )
    assert refused.status_code == 403, refused.text

    changed = await client.put(f"{API}/groups/finance", json={"members": ["role:admin"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["members"] == ["role:admin"]
    await client.post(f"{API}/groups", json={"name": "audit", "members": []})
    listed = await client.get(f"{API}/groups", headers=viewer.headers)
    assert [g["name"] for g in listed.json()] == ["audit", "finance"]
    assert listed.headers["X-Total-Count"] == "2"
    assert (await client.delete(f"{API}/groups/finance")).status_code == 204
    assert (await client.get(f"{API}/groups/finance")).status_code == 404

    audit = await client.get(f"{API}/audit", params={"resource_type": "group", "per_page": 10})
    entries = {e["action"]: e for e in audit.json() if e["resource_id"] == created.json()["id"]}
    assert set(entries) == {"group.create", "group.update", "group.delete"}
    assert entries["group.update"]["before"]["members"] == ["user:ana", "key:k1"]
    assert entries["group.update"]["after"]["members"] == ["role:admin"]


async def test_bad_group_requests_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post(f"{API}/groups", json={"name": "ops", "members": ["user:a"]})
    assert first.status_code == 201, first.text
    again = await client.post(f"{API}/groups", json={"name": "ops", "members": ["user:b"]})
    assert again.status_code == 409, again.text
    assert again.json()["error_code"] == "GROUP_EXISTS"
    assert again.json()["details"] == {"name": "ops"}
    for method in ("GET", "PUT", "DELETE"):
        body: dict[str, list[str]] | None = {"members": []} if method == "PUT" else None
        missing = await client.request(method, f"{API}/groups/nobody", json=body)
        assert missing.status_code == 404, (method, missing.text)
        assert missing.json()["error_code"] == "GROUP_NOT_FOUND"
    for bad in (
        {"name": "ops", "members": ["group:other"]},
        {"name": "a b", "members": []},
        {"name": "x", "members": "user:a"},
        {"name": "x", "members": ["role:"]},
    ):
        refused = await client.post(f"{API}/groups", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    nested = await client.put(f"{API}/groups/ops", json={"members": ["group:ops"]})
    assert nested.status_code == 422, nested.text
    assert (await client.get(f"{API}/groups/ops")).json()["members"] == ["user:a"]
    assert [g["name"] for g in (await client.get(f"{API}/groups")).json()] == ["ops"]


async def test_a_workspace_group_member_may_vote_and_others_may_not(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana, bo = await new_key(app, name="ana"), await new_key(app, name="bo")
    made = await client.post(f"{API}/groups", json={"name": "finance", "members": [ana.principal]})
    assert made.status_code == 201, made.text
    run_id = await waiting(client, await publish_review(client, approvers=["group:finance"]))

    request = (await steps_by_id(client, run_id))["review"]["request"]
    assert request["groups"] == {"finance": [ana.principal]}
    assert request["workspace_groups"] == ["finance"]
    refused = await decide(client, run_id, bo, {"approved": True})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error_code"] == "NOT_AN_APPROVER"
    # Members are those of when the step began to wait: a later change applies to
    # approvals that start waiting after it.
    await client.put(f"{API}/groups/finance", json={"members": [bo.principal]})
    assert (await decide(client, run_id, bo, {"approved": True})).status_code == 403
    decided = await decide(client, run_id, ana, {"approved": True})
    assert decided.status_code == 200, decided.text
    await wait_for(client, run_id, "completed")
    later = await waiting(client, await publish_review(client, approvers=["group:finance"]))
    assert (await decide(client, later, bo, {"approved": True})).status_code == 200


async def test_a_group_the_step_defines_wins_over_the_workspace_group(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana, bo = await new_key(app, name="ana"), await new_key(app, name="bo")
    await client.post(f"{API}/groups", json={"name": "finance", "members": [ana.principal]})
    workflow_id = await publish_review(
        client, approvers=["group:finance"], groups={"finance": [bo.principal]}
    )
    run_id = await waiting(client, workflow_id)
    assert (await decide(client, run_id, ana, {"approved": True})).status_code == 403
    assert (await decide(client, run_id, bo, {"approved": True})).status_code == 200
    # A name no group has stands for nobody; the step shows it empty.
    nobody = await waiting(client, await publish_review(client, approvers=["group:ghosts"]))
    assert (await steps_by_id(client, nobody))["review"]["request"]["groups"] == {"ghosts": []}
    assert (await decide(client, nobody, ana, {"approved": True})).status_code == 403
