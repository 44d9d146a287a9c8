"""An approval's rules hold through the API: who may decide, a JSON boolean only, one vote
each, the quorum and its rule, no self-approval, and named groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for
from tests.steering.conftest import approval, decide, new_key, waiting_run

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


async def _review(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    return (await steps_by_id(client, run_id))["review"]


async def test_callers_not_listed_get_403_and_nothing_changes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    run_id = await waiting_run(client, approvers=["alice@example.com"])
    operator = await new_key(app)
    for caller in (None, operator):  # the admin key, then an operator key
        refused = await decide(client, run_id, caller, {"approved": True})
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["error_code"] == "NOT_AN_APPROVER"
        assert body["details"]["approvers"] == ["alice@example.com"]
        assert body["details"]["votes"] == []
    review = await _review(client, run_id)
    assert review["status"] == "waiting"
    assert review["request"]["votes"] == []
    assert "approval.vote" not in await event_types(client, run_id)


@pytest.mark.parametrize("approved", ["yes", "on", "true", 1, 1.0, "no", 0, None])
async def test_approved_is_a_json_boolean_and_nothing_else(
    client: httpx.AsyncClient, approved: Any
) -> None:
    run_id = await waiting_run(client)
    refused = await decide(client, run_id, None, {"approved": approved})
    assert refused.status_code == 422, refused.text
    assert "approved" in refused.text
    assert (await _review(client, run_id))["status"] == "waiting"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"approvers": ["user:a", "key:k1"], "quorum": 3}, "quorum"),
        ({"approvers": ["group:leads"], "groups": {"leads": ["user:a"]}, "quorum": 2}, "quorum"),
        ({"approvers": ["group:"]}, "approvers"),
        ({"on_timeout": "escalate", "timeout_seconds": 60}, "escalate_to"),
        ({"timeout_seconds": 60, "remind_before_seconds": [60]}, "remind_before_seconds"),
        ({"quorum": 0}, "quorum"),
        ({"rule": "most"}, "rule"),
    ],
)
async def test_a_rule_that_cannot_hold_is_refused_naming_node_and_field(
    client: httpx.AsyncClient, config: dict[str, Any], field: str
) -> None:
    created = await client.post(
        f"{API}/workflows", json={"name": "wf", "definition": approval(**config)}
    )
    if created.status_code == 201:
        created = await client.post(f"{API}/workflows/{created.json()['id']}/publish")
    assert created.status_code == 422, created.text
    errors = created.json()["details"]["errors"]
    assert any(e["node_id"] == "review" and field in e["path"] for e in errors), errors


async def test_a_quorum_of_two_waits_for_two_votes_each_recorded(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana, bo = await new_key(app, name="ana"), await new_key(app, name="bo")
    run_id = await waiting_run(client, approvers=[ana.principal, bo.principal], quorum=2)

    first = await decide(client, run_id, ana, {"approved": True, "comment": "fine by me"})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "waiting"
    [vote] = (await _review(client, run_id))["request"]["votes"]
    assert vote["by"] == ana.principal
    assert (vote["approved"], vote["comment"]) == (True, "fine by me")
    assert vote["at"]

    again = await decide(client, run_id, ana, {"approved": True})
    assert again.status_code == 409, again.text
    assert again.json()["error_code"] == "ALREADY_VOTED"
    assert len(again.json()["details"]["votes"]) == 1

    second = await decide(client, run_id, bo, {"approved": True})
    assert second.status_code == 200, second.text
    done = await wait_for(client, run_id, "completed")
    output = done["context"]["review"]
    assert output["approved"] is True
    assert [v["by"] for v in output["votes"]] == [ana.principal, bo.principal]
    assert done["context"]["after"] == {"shipped": True}
    events = (await client.get(f"{API}/runs/{run_id}/events")).json()
    votes = [e["data"] for e in events if e["event_type"] == "approval.vote"]
    assert [(v["by"], v["approvals"], v["quorum"]) for v in votes] == [
        (ana.principal, 1, 2),
        (bo.principal, 2, 2),
    ]
    assert [e["event_type"] for e in events].count("approval.approved") == 1


async def test_any_rejection_rejects_by_default(app: FastAPI, client: httpx.AsyncClient) -> None:
    ana, bo = await new_key(app, name="ana"), await new_key(app, name="bo")
    run_id = await waiting_run(client, approvers=[ana.principal, bo.principal], quorum=2)
    assert (await decide(client, run_id, ana, {"approved": True})).status_code == 200
    rejected = await decide(client, run_id, bo, {"approved": False, "comment": "not today"})
    assert rejected.status_code == 200, rejected.text
    done = await wait_for(client, run_id, "completed")
    assert done["context"]["review"]["approved"] is False
    assert done["context"]["review"]["comment"] == "not today"
    assert done["context"]["declined"] == {"shipped": False}


async def test_majority_decides_once_the_quorum_has_voted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    voters = [await new_key(app, name=f"v{i}") for i in range(3)]
    run_id = await waiting_run(client, approvers=["role:operator"], quorum=3, rule="majority")
    for voter, approved in zip(voters, (True, False, True), strict=True):
        assert (await decide(client, run_id, voter, {"approved": approved})).status_code == 200
    done = await wait_for(client, run_id, "completed")
    assert done["context"]["review"]["approved"] is True
    assert len(done["context"]["review"]["votes"]) == 3


async def test_whoever_started_the_run_may_not_decide_unless_allowed(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_run(client, approvers=["role:operator"])
    refused = await decide(client, run_id, None, {"approved": True})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error_code"] == "SELF_APPROVAL"
    assert (await _review(client, run_id))["status"] == "waiting"

    allowed = await waiting_run(client, approvers=["role:operator"], allow_self_approval=True)
    assert (await decide(client, allowed, None, {"approved": True})).status_code == 200
    await wait_for(client, allowed, "completed")
    # Without approvers anyone may decide, the run's starter too, unless the step says not.
    anyone = await waiting_run(client)
    assert (await decide(client, anyone, None, {"approved": True})).status_code == 200


async def test_self_approval_is_refused_in_a_sub_workflow_too(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    inner = await publish(client, approval(approvers=["role:operator"]), name="inner")
    calling = {"nodes": [node("call", "sub_workflow", {"workflow_id": inner})], "edges": []}
    outer = await start(client, await publish(client, calling, name="outer"))
    await wait_for(client, outer["id"], "waiting")
    [child] = (await client.get(f"{API}/runs", params={"workflow_id": inner})).json()
    await wait_for(client, child["id"], "waiting")

    # The caller who started the outer run started the inner one too.
    refused = await decide(client, child["id"], None, {"approved": True})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error_code"] == "SELF_APPROVAL"
    other = await new_key(app)
    assert (await decide(client, child["id"], other, {"approved": True})).status_code == 200
    assert (await wait_for(client, outer["id"], "completed"))["status"] == "completed"


async def test_self_approval_is_refused_through_resume_too(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client, allow_self_approval=False)
    refused = await client.post(f"{API}/runs/{run_id}/resume", json={"data": {"approved": True}})
    assert refused.status_code == 403, refused.text
    assert refused.json()["error_code"] == "SELF_APPROVAL"


async def test_members_of_a_named_group_decide_and_others_do_not(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    lead, outsider = await new_key(app, name="lead"), await new_key(app, name="outsider")
    run_id = await waiting_run(
        client, approvers=["group:leads"], groups={"leads": [lead.principal, "user:zoe"]}
    )
    refused = await decide(client, run_id, outsider, {"approved": True})
    assert refused.status_code == 403, refused.text
    assert (await decide(client, run_id, lead, {"approved": True})).status_code == 200
    assert (await wait_for(client, run_id, "completed"))["context"]["review"]["decided_by"] == (
        lead.principal
    )


async def test_the_catalog_describes_the_rules(client: httpx.AsyncClient) -> None:
    catalog = (await client.get(f"{API}/catalog/steps")).json()
    [entry] = [e for e in catalog if e["type"] == "approval"]
    fields = entry["config_schema"]["properties"]
    for name in (
        "approvers",
        "groups",
        "quorum",
        "rule",
        "allow_self_approval",
        "on_timeout",
        "escalate_to",
        "escalate_timeout_seconds",
        "remind_before_seconds",
    ):
        assert fields[name]["description"], name
    assert "escalate" in str(fields["on_timeout"])
    assert fields["quorum"]["minimum"] == 1


async def test_publish_accepts_a_full_rule(client: httpx.AsyncClient) -> None:
    await publish(
        client,
        approval(
            approvers=["group:leads", "role:admin"],
            groups={"leads": ["user:a", "key:k"]},
            quorum=2,
            rule="majority",
            timeout_seconds=3600,
            remind_before_seconds=[600, 60],
            on_timeout="escalate",
            escalate_to=["user:boss", "role:admin"],
            escalate_timeout_seconds=600,
        ),
    )
