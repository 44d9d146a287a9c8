"""Patterns in JSON Schemas are matched by RE2, in time linear in the text: a pattern that
backtracks for minutes in Python answers at once, and one RE2 cannot compile is refused
when the workflow is validated, naming where it is."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.factories import node
from tests.runs import API, publish
from tests.servers import LlmServer, step_context
from tests.servers import http_client as http_client
from tests.servers import llm_server as llm_server
from towpath.domain.json_schema import offline_validator
from towpath.services.api_keys import issue_workspace_key
from towpath.steps.execution import EngineServices, Failed
from towpath.steps.llm import LlmConfig, execute

if TYPE_CHECKING:
    import aiohttp
    from fastapi import FastAPI

ONE_STEP = {"nodes": [node("a", "transform", {"output": {"ok": True}})], "edges": []}
# Python's matcher takes 2^n steps on n `a`s that end in another character: seconds at 27.
EXPONENTIAL = "^(a+)+$"
HOSTILE = "a" * 27 + "!"


def _errors(schema: dict[str, Any], value: Any, *, formats: bool = False) -> list[str]:
    validator = offline_validator(schema, check_formats=formats)
    return [error.message for error in validator.iter_errors(value)]


@pytest.mark.parametrize(
    ("schema", "errors"),
    [
        ({"type": "string", "pattern": EXPONENTIAL}, 1),
        ({"type": "object", "patternProperties": {EXPONENTIAL: {"type": "integer"}}}, 0),
        ({"patternProperties": {EXPONENTIAL: {}}, "additionalProperties": False}, 1),
        ({"type": "object", "propertyNames": {"pattern": EXPONENTIAL}}, 1),
    ],
    ids=["pattern", "patternProperties", "additionalProperties", "propertyNames"],
)
def test_a_backtracking_pattern_answers_at_once(schema: dict[str, Any], errors: int) -> None:
    value: Any = HOSTILE if schema.get("type") == "string" else {HOSTILE: "x"}
    began = time.perf_counter()

    found = _errors(schema, value)

    assert time.perf_counter() - began < 0.5
    assert len(found) == errors


def test_patterns_still_mean_what_they_say() -> None:
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": r"^[A-Z]{3}-\d+$"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }

    assert _errors(schema, {"code": "ABC-12", "x-count": 3}) == []
    assert _errors(schema, {"code": "abc-12", "x-count": "3", "other": 1}) == [
        "'abc-12' does not match '^[A-Z]{3}-\\\\d+$'",
        "'3' is not of type 'integer'",
        "'other' does not match any of the regexes: '^x-'",
    ]
    assert _errors({"type": "string", "pattern": r"^\p{Lu}"}, "Éa") == []


def test_a_string_of_format_regex_is_a_pattern_re2_compiles() -> None:
    schema = {"type": "string", "format": "regex"}

    assert _errors(schema, r"^\w+$", formats=True) == []
    assert _errors(schema, r"(a)\1", formats=True) == ["'(a)\\\\1' is not a 'regex'"]


def test_a_schema_saved_with_a_pattern_re2_refuses_fails_the_value_saying_why() -> None:
    errors = _errors({"type": "string", "pattern": r"(?=a)a"}, "a")

    assert len(errors) == 1
    assert "not a regular expression towpath can match" in errors[0]


UNUSABLE = [
    (
        {"type": "object", "properties": {"code": {"type": "string", "pattern": r"(\w)\1"}}},
        "input_schema.properties.code.pattern",
    ),
    (
        {"type": "object", "patternProperties": {"^(?!x-)": {"type": "string"}}},
        "input_schema.patternProperties['^(?!x-)']",
    ),
    (
        {"$defs": {"id": {"type": "string", "pattern": "(?<=a)b"}}, "$ref": "#/$defs/id"},
        "input_schema['$defs'].id.pattern",
    ),
    (
        {"patternProperties": {"^a": {}}, "unevaluatedProperties": False},
        "input_schema",
    ),
]


@pytest.mark.parametrize(
    ("schema", "path"), UNUSABLE, ids=["backreference", "lookahead", "lookbehind", "unevaluated"]
)
async def test_an_input_schema_pattern_re2_cannot_match_is_refused(
    client: httpx.AsyncClient, schema: dict[str, Any], path: str
) -> None:
    body = {"name": "p", "definition": ONE_STEP, "input_schema": schema}
    workflow_id = (await client.post(f"{API}/workflows", json=body)).json()["id"]

    validated = (await client.post(f"{API}/workflows/{workflow_id}/validate")).json()
    published = await client.post(f"{API}/workflows/{workflow_id}/publish")

    assert [(i["code"], i["path"]) for i in validated["issues"]] == [("invalid_input_schema", path)]
    assert published.status_code == 422, published.text
    assert published.json()["details"]["errors"] == validated["issues"]


async def test_an_llm_json_schema_pattern_re2_cannot_match_is_refused(
    client: httpx.AsyncClient,
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": "(?=x)"}}}
    config = {"model": "m", "prompt": "p", "response_format": "json", "json_schema": schema}
    definition = {"nodes": [node("ask", "llm", config)], "edges": []}
    workflow_id = (
        await client.post(f"{API}/workflows", json={"name": "l", "definition": definition})
    ).json()["id"]

    issues = (await client.post(f"{API}/workflows/{workflow_id}/validate")).json()["issues"]

    assert [(i["node_id"], i["path"]) for i in issues] == [("ask", "config.json_schema")]
    assert "$.properties.a.pattern" in issues[0]["message"]


async def test_an_llm_answer_is_checked_against_a_backtracking_pattern_at_once(
    http_client: aiohttp.ClientSession, llm_server: LlmServer
) -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": EXPONENTIAL}}}
    config = LlmConfig.model_validate(
        {"model": "m", "prompt": "p", "response_format": "json", "json_schema": schema}
    )
    llm_server.reply(f'{{"code": "{HOSTILE}"}}')
    services = EngineServices(http=http_client, llm_base_url=llm_server.base_url)
    began = time.perf_counter()

    outcome = await execute(config, step_context(services))

    assert time.perf_counter() - began < 1.0
    assert isinstance(outcome, Failed)
    assert "does not match" in outcome.error


async def _timed_start(client: httpx.AsyncClient, workflow_id: str, value: str) -> float:
    began = time.perf_counter()
    response = await client.post(
        f"{API}/workflows/{workflow_id}/run", json={"input": {"code": value}}
    )
    assert response.status_code in (201, 422), response.text
    return time.perf_counter() - began


async def test_a_hostile_input_neither_holds_its_run_start_nor_another_workspace(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": EXPONENTIAL}}}
    theirs = await publish(client, ONE_STEP, input_schema=schema)
    other = await issue_workspace_key(app.state.db, "other", "admin", workspace="other-team")
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {other.plaintext}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://towpath.test", headers=headers
    ) as neighbour:
        ours = await publish(neighbour, ONE_STEP, input_schema=schema)

        hostile, waited = await asyncio.gather(
            _timed_start(client, theirs, HOSTILE), _timed_start(neighbour, ours, "aaa")
        )

    # Python's matcher took seconds here, and the neighbour's start waited behind it.
    assert hostile < 1.0
    assert waited < 1.0
