"""An http_request whose URL is not http(s) is refused when the workflow is validated,
naming the node and path, instead of failing each run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from jsonschema.validators import Draft202012Validator

from tests.factories import node
from tests.runs import API, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx

REFUSED = [
    "file:///etc/passwd",
    "file://{{ input.path }}",
    "ftp://example.com/x",
    "gopher://example.com/",
    "localhost:8080/{{ input.path }}",
    "example.com/x",
    "http:///no-host",
]
ACCEPTED = [
    "https://example.com/x",
    "HTTP://example.com",
    "https://{{ input.host }}/x",
    "{{ input.url }}",
    "{{ input.base }}/users/{{ input.id }}",
]


async def _issues(client: httpx.AsyncClient, definition: dict[str, Any]) -> list[dict[str, Any]]:
    created = await client.post(f"{API}/workflows", json={"name": "u", "definition": definition})
    workflow_id = created.json()["id"]
    issues: list[dict[str, Any]] = (
        await client.post(f"{API}/workflows/{workflow_id}/validate")
    ).json()["issues"]
    published = await client.post(f"{API}/workflows/{workflow_id}/publish")
    assert published.status_code == (422 if issues else 200), published.text
    return issues


@pytest.mark.parametrize("url", REFUSED)
async def test_a_url_that_is_not_http_is_refused_at_validation(
    client: httpx.AsyncClient, url: str
) -> None:
    definition = {"nodes": [node("call", "http_request", {"url": url})], "edges": []}

    issues = await _issues(client, definition)

    assert [(i["code"], i["node_id"], i["path"]) for i in issues] == [
        ("invalid_config", "call", "config.url")
    ]
    assert "http:// or https://" in issues[0]["message"]


@pytest.mark.parametrize("url", ACCEPTED)
async def test_an_http_url_or_a_template_giving_one_is_accepted(
    client: httpx.AsyncClient, url: str
) -> None:
    definition = {"nodes": [node("call", "http_request", {"url": url})], "edges": []}

    assert await _issues(client, definition) == []


async def test_a_for_each_inner_call_to_a_file_url_is_refused(client: httpx.AsyncClient) -> None:
    inner = {"type": "http_request", "config": {"url": "file:///{{ item }}"}}
    definition = {
        "nodes": [node("each", "for_each", {"items": "{{ input.paths }}", "step": inner})],
        "edges": [],
    }

    issues = await _issues(client, definition)

    assert [(i["node_id"], i["path"]) for i in issues] == [("each", "config.step.config.url")]


async def test_the_catalog_schema_says_the_same_of_urls(client: httpx.AsyncClient) -> None:
    catalog = {e["type"]: e for e in (await client.get(f"{API}/catalog/steps")).json()}
    schema = Draft202012Validator(catalog["http_request"]["config_schema"])

    assert [schema.is_valid({"url": url}) for url in REFUSED] == [False] * len(REFUSED)
    assert [schema.is_valid({"url": url}) for url in ACCEPTED] == [True] * len(ACCEPTED)


async def test_a_template_rendering_a_file_url_fails_its_step_when_run(
    client: httpx.AsyncClient,
) -> None:
    definition = {"nodes": [node("call", "http_request", {"url": "{{ input.url }}"})], "edges": []}
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id, {"url": "file:///etc/passwd"})

    await wait_for(client, run["id"], "failed")
    step = (await steps_by_id(client, run["id"]))["call"]
    assert step["status"] == "failed"
    assert "file://" in step["error"]
