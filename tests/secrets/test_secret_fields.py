"""Templates read secrets only in fields marked secret-capable, and only secrets that
exist: validation and publishing say which node and field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.runs import API
from tests.secrets.helpers import make_secret
from towpath.domain.validation import validate_definition
from towpath.steps.catalog import default_registry

if TYPE_CHECKING:
    import httpx

SPECS = default_registry().specs()


def errors_of(definition: dict[str, Any], secrets: frozenset[str] | None = None) -> list[Any]:
    return validate_definition(definition, SPECS, secrets=secrets)


def one_call(config: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": [node("call", "http_request", config)], "edges": []}


def test_headers_and_the_url_may_read_a_secret() -> None:
    config = {
        "url": "https://example.com/{{ secrets.PATH }}",
        "headers": {"Authorization": "Bearer {{ secrets['TOKEN'] }}"},
    }
    assert errors_of(one_call(config), frozenset({"PATH", "TOKEN"})) == []


def test_a_secret_in_another_field_is_refused_naming_node_and_field() -> None:
    config = {"url": "https://example.com", "body": {"token": "{{ secrets.TOKEN }}"}}
    (error,) = errors_of(one_call(config), frozenset({"TOKEN"}))
    assert error.code == "secret_not_allowed"
    assert (error.node_id, error.path) == ("call", "config.body.token")
    transform = {"nodes": [node("t", "transform", {"output": {"x": "{{ secrets.TOKEN }}"}})]}
    (error,) = errors_of(transform, frozenset({"TOKEN"}))
    assert (error.code, error.node_id, error.path) == ("secret_not_allowed", "t", "config.output.x")


def test_secrets_read_by_a_computed_name_are_refused() -> None:
    config = {"url": "https://example.com", "headers": {"X": "{{ secrets[input.name] }}"}}
    (error,) = errors_of(one_call(config), frozenset())
    assert error.code == "secret_not_by_name"
    assert error.path == "config.headers.X"


def test_an_unknown_secret_is_an_error_when_the_workspace_s_names_are_given() -> None:
    config = {"url": "https://example.com", "headers": {"X": "{{ secrets.MISSING }}"}}
    (error,) = errors_of(one_call(config), frozenset({"OTHER"}))
    assert (error.code, error.path) == ("unknown_secret", "config.headers.X")
    assert "MISSING" in error.message
    llm = {"nodes": [node("ask", "llm", {"model": "m", "prompt": "p", "api_key_secret": "NOPE"})]}
    (error,) = errors_of(llm, frozenset())
    assert (error.code, error.path) == ("unknown_secret", "config.api_key_secret")


def test_the_catalog_marks_the_secret_capable_fields() -> None:
    catalog = {entry["type"]: entry for entry in default_registry().catalog()}
    properties = catalog["http_request"]["config_schema"]["properties"]
    assert properties["headers"]["secret_capable"] is True
    assert properties["url"]["secret_capable"] is True
    assert "secret_capable" not in properties["body"]


async def test_publishing_a_workflow_that_reads_an_unknown_secret_fails(
    client: httpx.AsyncClient,
) -> None:
    config = {"url": "https://example.com", "headers": {"X": "{{ secrets.TOKEN }}"}}
    body = {"name": "wf", "definition": one_call(config)}
    workflow_id = (await client.post(f"{API}/workflows", json=body)).json()["id"]
    checked = (await client.post(f"{API}/workflows/{workflow_id}/validate")).json()
    assert checked["valid"] is False
    assert [e["code"] for e in checked["issues"]] == ["unknown_secret"]
    refused = await client.post(f"{API}/workflows/{workflow_id}/publish")
    assert refused.status_code == 422
    await make_secret(client, "TOKEN", "value")
    published = await client.post(f"{API}/workflows/{workflow_id}/publish")
    assert published.status_code == 200, published.text
