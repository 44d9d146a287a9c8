"""Which workspace a JWT user acts in: its first, whatever other workspaces add it later;
another one only when it names it. Naming a workspace tells nothing about whether it
exists."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from sqlalchemy import event

from tests.runs import API
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from towpath.config import Settings

SECRET = "workspace-choice-secret-with-at-least-32-characters"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No periodic agent checks: they read through the API's engine, whose statements a
    # test here counts.
    return settings.model_copy(update={"jwt_secret": SECRET, "agent_health_interval_seconds": 0})


def as_user(subject: str, **headers: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": subject, "aud": "authenticated", "iat": now, "exp": now + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}", **headers}


@pytest.fixture
async def team_b(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The admin of another workspace, `team-b`."""
    theirs = await issue_workspace_key(app.state.db, "b admin", "admin", workspace="team-b")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://towpath.test",
        headers={"Authorization": f"Bearer {theirs.plaintext}"},
    ) as c:
        yield c


async def _names(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    listed = await client.get(f"{API}/workflows", headers=headers)
    assert listed.status_code == 200, listed.text
    return [workflow["name"] for workflow in listed.json()]


async def test_joining_another_workspace_never_moves_a_user_out_of_its_own(
    client: httpx.AsyncClient, team_b: httpx.AsyncClient
) -> None:
    await client.post(f"{API}/members", json={"subject": "ann", "role": "editor"})
    await client.post(f"{API}/workflows", json={"name": "ours"})
    await team_b.post(f"{API}/workflows", json={"name": "theirs"})
    before = await _names(client, as_user("ann"))

    joined = await team_b.post(f"{API}/members", json={"subject": "ann", "role": "admin"})

    assert joined.status_code == 201, joined.text
    assert before == await _names(client, as_user("ann")) == ["ours"]
    assert await _names(client, as_user("ann", **{"X-Workspace": "team-b"})) == ["theirs"]
    assert await _names(client, as_user("ann", **{"X-Workspace": "default"})) == ["ours"]
    # Its role here is still its role here, not the one the other workspace gave it.
    keys = await client.get(f"{API}/api-keys", headers=as_user("ann"))
    assert keys.status_code == 403


async def test_a_user_added_first_elsewhere_acts_there_until_it_names_this_one(
    client: httpx.AsyncClient, team_b: httpx.AsyncClient
) -> None:
    await team_b.post(f"{API}/members", json={"subject": "bob", "role": "viewer"})
    await team_b.post(f"{API}/workflows", json={"name": "theirs"})
    await client.post(f"{API}/members", json={"subject": "bob", "role": "viewer"})

    assert await _names(client, as_user("bob")) == ["theirs"]
    assert await _names(client, as_user("bob", **{"X-Workspace": "default"})) == []


def _without(answer: dict[str, Any], name: str) -> dict[str, Any]:
    """The answer without the name the caller sent (echoed in details) nor its request id."""
    found = {key: value for key, value in answer.items() if key != "request_id"}
    found["details"] = {k: v for k, v in found["details"].items() if v != name}
    return found


@pytest.mark.usefixtures("team_b")
async def test_naming_a_missing_workspace_and_a_foreign_one_get_the_same_answer(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.post(f"{API}/members", json={"subject": "ann", "role": "viewer"})
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        answers = {}
        reads = {}
        for name in ("team-b", "no-such-team"):
            statements.clear()
            answers[name] = await client.get(
                f"{API}/workflows", headers=as_user("ann", **{"X-Workspace": name})
            )
            reads[name] = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    foreign, missing = answers["team-b"], answers["no-such-team"]
    assert foreign.status_code == missing.status_code == 403
    assert foreign.json()["error_code"] == missing.json()["error_code"] == "NOT_A_MEMBER"
    assert _without(foreign.json(), "team-b") == _without(missing.json(), "no-such-team")
    # The same reads either way: the time taken tells nothing either.
    assert reads["team-b"] == reads["no-such-team"]
