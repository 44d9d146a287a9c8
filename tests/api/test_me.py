"""`GET /api/v1/me` tells any caller who it is: its workspace, its role, and the key or
JWT subject it came with, so a client shows only what that role may use."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import jwt
import pytest

from tests.runs import API
from towpath.auth.principal import ROLES
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings

SECRET = "me-route-secret-with-at-least-32-characters!"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"jwt_secret": SECRET})


def as_user(subject: str, **headers: str) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": subject, "aud": "authenticated", "iat": now, "exp": now + 600}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}", **headers}


async def test_each_role_is_told_its_key_workspace_and_role(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    for role in ROLES:
        issued = await issue_workspace_key(app.state.db, f"console {role}", role)
        headers = {"Authorization": f"Bearer {issued.plaintext}"}

        response = await client.get(f"{API}/me", headers=headers)

        assert response.status_code == 200, response.text
        me = response.json()
        assert me["role"] == role
        assert me["authenticated_by"] == "api_key"
        assert me["api_key"] == {
            "id": issued.key.id,
            "name": f"console {role}",
            "prefix": issued.key.prefix,
        }
        assert me["subject"] is None
        assert me["expires_at"] is None
        assert me["workspace"]["slug"] == "default"
        assert me["workspace"]["id"] == issued.key.workspace_id


async def test_a_key_of_another_workspace_is_told_that_workspace(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    theirs = await issue_workspace_key(app.state.db, "b viewer", "viewer", workspace="team-b")

    bearer = {"Authorization": f"Bearer {theirs.plaintext}"}
    me = (await client.get(f"{API}/me", headers=bearer)).json()

    assert me["workspace"] == {"id": theirs.key.workspace_id, "slug": "team-b", "name": "Team-b"}
    assert (me["role"], me["api_key"]["name"]) == ("viewer", "b viewer")


async def test_a_jwt_user_is_told_its_subject_and_the_workspace_it_named(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    theirs = await issue_workspace_key(app.state.db, "b admin", "admin", workspace="team-b")
    await client.post(f"{API}/members", json={"subject": "ann", "role": "operator"})
    b_admin = {"Authorization": f"Bearer {theirs.plaintext}"}
    await client.post(f"{API}/members", json={"subject": "ann", "role": "editor"}, headers=b_admin)

    here = (await client.get(f"{API}/me", headers=as_user("ann"))).json()
    there = await client.get(f"{API}/me", headers=as_user("ann", **{"X-Workspace": "team-b"}))

    assert (here["authenticated_by"], here["subject"], here["api_key"]) == ("jwt", "ann", None)
    assert (here["workspace"]["slug"], here["role"]) == ("default", "operator")
    assert here["expires_at"] is not None
    assert there.status_code == 200, there.text
    assert (there.json()["workspace"]["slug"], there.json()["role"]) == ("team-b", "editor")


async def test_without_a_credential_it_is_a_401(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/me", headers={"Authorization": ""})

    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
