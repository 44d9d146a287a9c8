"""/api/v1/secrets: values go in encrypted and never come out; bad input stores nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from tests.runs import API
from tests.secrets.helpers import assert_absent, make_secret
from tests.tenants import other_workspace
from towpath.services.api_keys import issue_workspace_key
from towpath.storage.models import AuditEntry, WorkspaceSecret

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from towpath.storage.database import Database

VALUE = "s3cr3t-Value/with+odd=chars"


async def stored_secrets(db: Database) -> list[WorkspaceSecret]:
    async with db.read() as session:
        return list(await session.scalars(select(WorkspaceSecret)))


async def test_a_secret_is_created_listed_rotated_and_deleted_without_its_value(
    client: httpx.AsyncClient, db: Database
) -> None:
    made = await client.post(
        f"{API}/secrets", json={"name": "TOKEN", "value": VALUE, "description": "the API token"}
    )
    assert made.status_code == 201, made.text
    assert set(made.json()) == {"name", "description", "created_by", "created_at", "rotated_at"}
    listed = await client.get(f"{API}/secrets")
    assert [s["name"] for s in listed.json()] == ["TOKEN"]
    assert listed.headers["X-Total-Count"] == "1"
    rotated = await client.post(f"{API}/secrets/TOKEN/rotate", json={"value": VALUE + "2"})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["rotated_at"] is not None
    one = await client.get(f"{API}/secrets/TOKEN")
    audit = await client.get(f"{API}/audit")
    for response in (made, listed, rotated, one, audit):
        assert_absent(response.text, VALUE, str(response.url))
    (row,) = await stored_secrets(db)
    assert_absent(row.ciphertext, VALUE, "the stored ciphertext")
    actions = [entry["action"] for entry in audit.json()]
    assert {"secret.create", "secret.rotate"} <= set(actions)

    assert (await client.delete(f"{API}/secrets/TOKEN")).status_code == 204
    assert (await client.get(f"{API}/secrets/TOKEN")).status_code == 404
    assert await stored_secrets(db) == []


async def test_a_second_secret_of_the_same_name_is_a_conflict(client: httpx.AsyncClient) -> None:
    await make_secret(client, "TOKEN", VALUE)
    again = await client.post(f"{API}/secrets", json={"name": "TOKEN", "value": "other"})
    assert again.status_code == 409
    assert again.json()["error_code"] == "SECRET_EXISTS"


async def test_a_name_that_is_not_an_identifier_is_refused_naming_the_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    for name in ("1TOKEN", "my-token", "a b", "", "x" * 101):
        refused = await client.post(f"{API}/secrets", json={"name": name, "value": VALUE})
        assert refused.status_code == 422, name
        body = refused.json()
        assert body["error_code"] == "VALIDATION_ERROR"
        assert [e["loc"] for e in body["details"]["errors"]] == [["body", "name"]]
        assert_absent(refused.text, VALUE, "the error")
    assert await stored_secrets(db) == []


async def test_a_value_over_64_kib_is_refused_and_not_echoed(
    client: httpx.AsyncClient, db: Database
) -> None:
    big = "k" * (64 * 1024 + 1)
    refused = await client.post(f"{API}/secrets", json={"name": "BIG", "value": big})
    assert refused.status_code == 422
    assert [e["loc"] for e in refused.json()["details"]["errors"]] == [["body", "value"]]
    assert "k" * 100 not in refused.text
    assert await stored_secrets(db) == []
    await make_secret(client, "EXACT", "k" * (64 * 1024))
    rotate = await client.post(f"{API}/secrets/EXACT/rotate", json={"value": big})
    assert rotate.status_code == 422
    assert [e["loc"] for e in rotate.json()["details"]["errors"]] == [["body", "value"]]


async def test_another_workspace_s_secret_is_not_found(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await make_secret(client, "TOKEN", VALUE)
    async with other_workspace(app) as neighbour:
        assert (await neighbour.get(f"{API}/secrets/TOKEN")).status_code == 404
        assert (await neighbour.delete(f"{API}/secrets/TOKEN")).status_code == 404
        rotate = await neighbour.post(f"{API}/secrets/TOKEN/rotate", json={"value": "x"})
        assert rotate.status_code == 404
        assert (await neighbour.get(f"{API}/secrets")).json() == []
        # The same name is free in another workspace.
        await make_secret(neighbour, "TOKEN", "theirs")
    assert len((await client.get(f"{API}/secrets")).json()) == 1


async def test_viewers_list_names_and_only_editors_change_secrets(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    await make_secret(client, "TOKEN", VALUE)
    viewer = await issue_workspace_key(db, "viewer", "viewer")
    headers = {"Authorization": f"Bearer {viewer.plaintext}"}
    listed = await client.get(f"{API}/secrets", headers=headers)
    assert [s["name"] for s in listed.json()] == ["TOKEN"]
    made = await client.post(f"{API}/secrets", json={"name": "X", "value": "y"}, headers=headers)
    assert made.status_code == 403
    assert (await client.delete(f"{API}/secrets/TOKEN", headers=headers)).status_code == 403
    async with db.read() as session:
        entries = list(await session.scalars(select(AuditEntry)))
    for entry in entries:
        assert_absent(repr((entry.before, entry.after)), VALUE, "the audit log")
