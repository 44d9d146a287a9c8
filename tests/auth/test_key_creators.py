"""Every API key says who created it: the admin that asked, or the server's own command line."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import TYPE_CHECKING

import jwt
import pytest

from tests.runs import API
from towpath.services.api_keys import issue_first_admin_key
from towpath.services.members import add_member

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.config import Settings
    from towpath.storage.database import Database

SECRET = "key-creators-secret-with-at-least-32-characters"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"jwt_secret": SECRET})


async def _admin_key_id(app: FastAPI, client: httpx.AsyncClient) -> str:
    key = client.headers["Authorization"].removeprefix("Bearer ")
    principal = await app.state.authenticator.authenticate(key)
    subject: str = principal.subject
    return subject.removeprefix("key:")


async def test_a_key_names_the_admin_that_created_it_wherever_it_is_shown(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin_id = await _admin_key_id(app, client)
    made = await client.post(f"{API}/api-keys", json={"name": "ci", "role": "viewer"})
    key_id = made.json()["id"]

    listed = {key["id"]: key for key in (await client.get(f"{API}/api-keys")).json()}
    shown = (await client.get(f"{API}/api-keys/{key_id}")).json()

    assert made.status_code == 201
    assert made.json()["created_by"] == f"key:{admin_id}"
    assert listed[key_id]["created_by"] == shown["created_by"] == f"key:{admin_id}"
    # The test's own admin key was made on the server's machine.
    assert listed[admin_id]["created_by"] == "cli"


async def test_a_key_made_by_a_jwt_admin_names_its_user(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await app.state.authenticator.authenticate(
        client.headers["Authorization"].removeprefix("Bearer ")
    )
    await add_member(app.state.db, admin, "ops-lead", "admin")
    now = int(time.time())
    claims = {"sub": "ops-lead", "aud": "authenticated", "iat": now, "exp": now + 600}
    token = jwt.encode(claims, SECRET, algorithm="HS256")

    made = await client.post(
        f"{API}/api-keys",
        json={"name": "deploys", "role": "operator"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == "user:ops-lead"


async def test_keys_create_on_the_command_line_says_so(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    env = {**os.environ, "TOWPATH_DATABASE_URL": settings.database_url}
    made = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "towpath",
        "keys",
        "create",
        "--role",
        "viewer",
        "--name",
        "from the shell",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    printed, _ = await made.communicate()
    assert made.returncode == 0

    listed = (await client.get(f"{API}/api-keys")).json()
    from_shell = next(key for key in listed if key["name"] == "from the shell")
    assert printed.decode().strip().startswith(f"tp_{from_shell['prefix']}_")
    assert from_shell["created_by"] == "cli"


async def test_the_first_admin_key_of_a_new_server_says_serve_made_it(db: Database) -> None:
    first = await issue_first_admin_key(db)

    assert first is not None
    assert first.key.created_by == "serve"
