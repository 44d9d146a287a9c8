"""A typo in a template is a validation error naming its node and path, never a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.factories import node

if TYPE_CHECKING:
    import httpx

API = "/api/v1"


@pytest.mark.parametrize(
    "template",
    [
        "{{ input.name | uppr }}",
        "{% if input.name is strng %}x{% endif %}",
        "{{ input.name | format_map({}) }}",
    ],
    ids=["unknown-filter", "unknown-test", "filter-not-offered"],
)
async def test_an_unknown_filter_or_test_is_reported_by_validation(
    client: httpx.AsyncClient, template: str
) -> None:
    definition = {"nodes": [node("greet", "transform", {"output": {"v": template}})], "edges": []}
    created = await client.post(f"{API}/workflows", json={"name": "t", "definition": definition})

    validated = await client.post(f"{API}/workflows/{created.json()['id']}/validate")
    published = await client.post(f"{API}/workflows/{created.json()['id']}/publish")

    assert validated.status_code == 200, validated.text
    issues = validated.json()["issues"]
    assert [(i["node_id"], i["path"]) for i in issues] == [("greet", "config.output.v")]
    assert published.status_code == 422, published.text
