"""Updating a draft: any subset of the fields, each checked as on create; a field that
cannot be empty is not emptied by sending null."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.factories import workflow_body

if TYPE_CHECKING:
    import httpx

API = "/api/v1"


@pytest.mark.parametrize("field", ["name", "description", "definition"])
async def test_null_for_a_field_that_cannot_be_empty_is_422_and_changes_nothing(
    client: httpx.AsyncClient, field: str
) -> None:
    created = (await client.post(f"{API}/workflows", json=workflow_body())).json()

    updated = await client.put(f"{API}/workflows/{created['id']}", json={field: None})

    assert updated.status_code == 422, updated.text
    assert updated.json()["error_code"] == "VALIDATION_ERROR"
    read = await client.get(f"{API}/workflows/{created['id']}")
    assert read.status_code == 200, read.text
    assert read.json()[field] == created[field]
    listed = await client.get(f"{API}/workflows")
    assert listed.status_code == 200, listed.text


async def test_null_input_schema_removes_the_schema(client: httpx.AsyncClient) -> None:
    created = (await client.post(f"{API}/workflows", json=workflow_body())).json()

    updated = await client.put(f"{API}/workflows/{created['id']}", json={"input_schema": None})

    assert updated.status_code == 200, updated.text
    assert updated.json()["input_schema"] is None
    assert updated.json()["definition"] == created["definition"]
