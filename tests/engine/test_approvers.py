"""An approval's `approvers` is a rule that holds, on every way a decision can arrive."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest

from tests.factories import edge, node
from tests.runs import API, admin_headers, publish, start, steps_by_id, wait_for
from towpath.services.api_keys import issue_workspace_key
from towpath.services.members import add_member

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from towpath.config import Settings

SECRET = "approvers-test-secret-with-at-least-32-characters"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"jwt_secret": SECRET, "jwt_algorithms": ["HS256"]})


@pytest.fixture
async def as_alice(app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client acting as alice@example.com, an operator, signed in with a JWT."""
    admin = await app.state.authenticator.authenticate(
        client.headers["Authorization"].removeprefix("Bearer ")
    )
    await add_member(app.state.db, admin, "alice@example.com", "operator")
    token = jwt.encode(
        {"sub": "alice@example.com", "aud": "authenticated", "exp": 4_000_000_000},
        SECRET,
        algorithm="HS256",
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://towpath.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as c:
        yield c


def _approval(approvers: list[str]) -> dict[str, Any]:
    return {
        "nodes": [
            node("review", "approval", {"message": "ship it?", "approvers": approvers}),
            node("after", "transform", {"output": {"by": "{{ review.decided_by }}"}}),
        ],
        "edges": [edge("review", "after")],
    }


async def _waiting(client: httpx.AsyncClient, approvers: list[str]) -> str:
    run = await start(client, await publish(client, _approval(approvers)))
    await wait_for(client, run["id"], "waiting")
    return str(run["id"])


async def _still_waiting(client: httpx.AsyncClient, run_id: str) -> None:
    assert (await steps_by_id(client, run_id))["review"]["status"] == "waiting"
    assert (await client.get(f"{API}/runs/{run_id}")).json()["status"] == "waiting"


async def _operator(app: FastAPI) -> tuple[str, dict[str, str]]:
    issued = await issue_workspace_key(app.state.db, "ops desk", "operator")
    return issued.key.id, {"Authorization": f"Bearer {issued.plaintext}"}


async def test_callers_who_are_not_listed_get_403_and_the_step_keeps_waiting(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    run_id = await _waiting(client, ["alice@example.com"])
    _, operator = await _operator(app)
    for headers in (client.headers, operator):
        refused = await client.post(
            f"{API}/runs/{run_id}/approve", json={"approved": True}, headers=headers
        )
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["error_code"] == "NOT_AN_APPROVER"
        assert body["details"]["approvers"] == ["alice@example.com"]
    await _still_waiting(client, run_id)


async def test_a_listed_user_decides_and_the_output_names_them(
    client: httpx.AsyncClient, as_alice: httpx.AsyncClient
) -> None:
    run_id = await _waiting(client, ["alice@example.com"])
    approved = await as_alice.post(
        f"{API}/runs/{run_id}/approve", json={"approved": True, "comment": "go"}
    )
    assert approved.status_code == 200, approved.text
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["context"]["after"] == {"by": "user:alice@example.com"}


async def test_keys_and_roles_may_be_named_as_approvers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    key_id, operator = await _operator(app)
    by_key = await _waiting(client, [f"key:{key_id}"])
    assert (
        await client.post(f"{API}/runs/{by_key}/approve", json={"approved": True})
    ).status_code == 403
    ok = await client.post(
        f"{API}/runs/{by_key}/approve", json={"approved": True}, headers=operator
    )
    assert ok.status_code == 200, ok.text

    by_role = await _waiting(client, ["role:admin"])
    refused = await client.post(
        f"{API}/runs/{by_role}/approve", json={"approved": False}, headers=operator
    )
    assert refused.status_code == 403
    await _still_waiting(client, by_role)
    # Another admin: whoever started the run may not decide an approval naming approvers.
    other_admin = await admin_headers(app)
    assert (
        await client.post(
            f"{API}/runs/{by_role}/approve", json={"approved": True}, headers=other_admin
        )
    ).status_code == 200


async def test_resume_is_checked_as_approve_is_and_never_takes_decided_by(
    client: httpx.AsyncClient, as_alice: httpx.AsyncClient
) -> None:
    run_id = await _waiting(client, ["alice@example.com"])
    forged: dict[str, Any] = {
        "step_id": "review",
        "data": {"approved": True, "decided_by": "user:alice"},
    }
    refused = await client.post(f"{API}/runs/{run_id}/resume", json=forged)
    assert refused.status_code == 403, refused.text
    await _still_waiting(client, run_id)

    forged["data"]["decided_by"] = "user:mallory"
    resumed = await as_alice.post(f"{API}/runs/{run_id}/resume", json=forged)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["context"]["review"]["decided_by"] == "user:alice@example.com"


@pytest.mark.parametrize("approved", ["yes", "true", 1, 0, None])
async def test_resume_takes_only_a_json_boolean_as_a_decision(
    client: httpx.AsyncClient, approved: Any
) -> None:
    run_id = await _waiting(client, [])
    refused = await client.post(
        f"{API}/runs/{run_id}/resume", json={"data": {"approved": approved}}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error_code"] == "DECISION_INVALID"
    await _still_waiting(client, run_id)


async def test_resume_checks_a_clarification_answers_as_clarify_does(
    client: httpx.AsyncClient,
) -> None:
    question = {"id": "size", "text": "Which size?", "type": "choice", "choices": ["S", "L"]}
    definition = {"nodes": [node("ask", "clarification", {"questions": [question]})], "edges": []}
    run = await start(client, await publish(client, definition))
    await wait_for(client, run["id"], "waiting")

    wrong = await client.post(f"{API}/runs/{run['id']}/resume", json={"data": {"size": "XL"}})
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["error_code"] == "ANSWERS_INVALID"
    right = await client.post(f"{API}/runs/{run['id']}/resume", json={"data": {"size": "L"}})
    assert right.status_code == 200, right.text
    assert right.json()["context"]["ask"] == {"size": "L"}
