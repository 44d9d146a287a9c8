"""An input_schema is JSON Schema that can be checked: a `$ref` that leads nowhere, or to
another document, is a validation error naming the schema, never a 500 at run time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API

if TYPE_CHECKING:
    import httpx

DANGLING = [
    {"$ref": "#/$defs/missing"},
    {"type": "object", "properties": {"x": {"$ref": "#/nowhere"}}},
    {"$ref": "https://schemas.example.com/order.json"},
]
ONE_STEP = {"nodes": [node("a", "transform", {"output": {"ok": True}})], "edges": []}


@pytest.mark.parametrize("schema", DANGLING, ids=["local", "nested", "remote"])
async def test_a_dangling_ref_is_a_validation_error(
    client: httpx.AsyncClient, schema: dict[str, Any]
) -> None:
    body = {"name": "refs", "definition": ONE_STEP, "input_schema": schema}
    created = (await client.post(f"{API}/workflows", json=body)).json()

    validated = (await client.post(f"{API}/workflows/{created['id']}/validate")).json()
    published = await client.post(f"{API}/workflows/{created['id']}/publish")

    assert validated["valid"] is False, validated
    assert [i["code"] for i in validated["issues"]] == ["invalid_input_schema"]
    assert published.status_code == 422, published.text


async def test_starting_a_run_with_a_dangling_ref_is_never_a_500(
    client: httpx.AsyncClient,
) -> None:
    body = {"name": "refs", "definition": ONE_STEP, "input_schema": DANGLING[0]}
    workflow_id = (await client.post(f"{API}/workflows", json=body)).json()["id"]
    await client.post(f"{API}/workflows/{workflow_id}/publish")

    started = await client.post(f"{API}/workflows/{workflow_id}/run", json={"input": {}})

    # Refused as a draft (409) or for its schema (422); not an internal error.
    assert started.status_code in (409, 422), started.text
