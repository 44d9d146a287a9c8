"""The catalog's config schemas say what validation accepts: a config a form built from
the catalog accepts validates, and one it refuses does not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from jsonschema.validators import Draft202012Validator

from tests.factories import node

if TYPE_CHECKING:
    import httpx

API = "/api/v1"

CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("http_request", {"url": "https://example.com", "method": "get"}),
    ("http_request", {"url": "https://example.com", "timeout": "5"}),
    ("http_request", {"url": "https://example.com", "retry": {"max_attempts": True}}),
    (
        "http_request",
        {"url": "https://example.com", "retry": {"backoff_seconds": 10, "max_backoff_seconds": 1}},
    ),
    ("delay", {}),
    ("delay", {"seconds": 1, "until": "2030-01-01T00:00:00Z"}),
    ("delay", {"until": "tomorrow"}),
    ("approval", {"message": "ok?", "timeout_seconds": "60"}),
    ("approval", {"message": "ok?", "timeout_seconds": 1.0}),
    ("switch", {"value": "x", "cases": {"default": "x"}}),
    ("clarification", {"questions": [{"id": "q", "text": "?", "type": "choice"}]}),
    ("for_each", {"items": "{{ input.x }}", "step": {"type": "for_each"}}),
    ("for_each", {"items": "{{ input.x }}", "step": {"type": "approval"}}),
    (
        "for_each",
        {
            "items": "{{ input.x }}",
            "step": {"type": "delay", "config": {"seconds": 1}},
            "concurrency": 2.0,
        },
    ),
    ("http_request", {"url": "https://example.com", "allow_status": [404.0]}),
    ("http_request", {"url": 42}),
    ("http_request", {"url": "https://example.com", "headers": {"X-Count": 3}}),
    ("http_request", {"url": "https://example.com", "retry": {"max_attempts": 2.5}}),
    ("agent", {"agent_id": "a", "agent": "b"}),
    ("agent", {"agent_id": None, "agent": "b"}),
    ("agent", {"agent_id": None, "agent": None}),
    ("llm", {"model": "m", "prompt": "p", "max_tokens": "5"}),
    ("llm", {"model": "m", "prompt": "p", "temperature": True}),
    ("delay", {"seconds": None, "until": "2030-01-01T00:00:00+02:00"}),
    ("delay", {"seconds": "5"}),
    ("delay", {"until": "{{ input.due }}"}),
    ("delay", {"until": "2030-01-01T00:00:00"}),
    ("approval", {"message": 5}),
    ("approval", {"message": "ok?", "approvers": ["ada"], "on_timeout": "approve"}),
    ("switch", {"value": 5, "cases": {"a": "5"}}),
    ("switch", {"value": "x", "cases": {"a": 5}}),
    ("clarification", {"questions": [{"id": "q", "text": "?", "choices": ["a"]}]}),
    ("clarification", {"questions": [{"id": "q", "text": "?", "choices": None}]}),
    (
        "clarification",
        {"questions": [{"id": "q", "text": "?", "type": "choice", "choices": ["a"]}]},
    ),
    ("clarification", {"questions": [{"id": "q", "text": "?", "required": "yes"}]}),
    (
        "clarification",
        {
            "questions": [
                {
                    "id": "q",
                    "text": "?",
                    "type": "multi_choice",
                    "options": ["a", "b"],
                    "min_selections": 1,
                    "default": ["a"],
                }
            ]
        },
    ),
    ("clarification", {"questions": [{"id": "q", "text": "?", "type": "date", "min": 3}]}),
    ("clarification", {"questions": [{"id": "q", "text": "?", "type": "integer", "default": 2.5}]}),
    ("clarification", {"questions": [{"id": "q", "text": "?", "type": "number", "pattern": "x"}]}),
    ("clarification", {"questions": [{"id": "q", "text": "?", "options": None, "max_length": 9}]}),
    (
        "clarification",
        {
            "questions": [
                {"id": "q", "text": "?", "type": "choice", "options": ["a"], "choices": ["a"]}
            ]
        },
    ),
    ("wait_for_event", {"event_name": "paid", "timeout_seconds": True}),
    ("wait_for_event", {"event_name": "paid", "timeout_seconds": 0}),
    ("http_request", {"url": "https://example.com", "allow_status": [99]}),
    ("llm", {"model": "m", "prompt": "p", "max_tokens": 0}),
    ("wait_for_event", {"event_name": "paid", "key": 42}),
    ("sub_workflow", {"workflow_id": "w", "wait": 1}),
]


@pytest.mark.parametrize(
    ("step_type", "config"), CONFIGS, ids=[f"{t}-{i}" for i, (t, _) in enumerate(CONFIGS)]
)
async def test_the_catalog_and_validation_agree_on_a_config(
    client: httpx.AsyncClient, step_type: str, config: dict[str, Any]
) -> None:
    catalog = {e["type"]: e for e in (await client.get(f"{API}/catalog/steps")).json()}
    schema = catalog[step_type]["config_schema"]
    catalog_accepts = Draft202012Validator(schema).is_valid(config)
    body = {"name": "c", "definition": {"nodes": [node("s", step_type, config)], "edges": []}}
    created = (await client.post(f"{API}/workflows", json=body)).json()
    issues = (await client.post(f"{API}/workflows/{created['id']}/validate")).json()["issues"]
    engine_accepts = not [i for i in issues if i["code"] == "invalid_config"]

    assert catalog_accepts == engine_accepts, (
        f"catalog {'accepts' if catalog_accepts else 'refuses'}, "
        f"validation {'accepts' if engine_accepts else 'refuses'}: {issues}"
    )
