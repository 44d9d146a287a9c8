from typing import Any

import pytest
from pydantic import ValidationError

from tests.factories import node
from towpath.domain.validation import validate_definition
from towpath.steps.catalog import default_registry
from towpath.steps.for_each import ForEachConfig


def test_full_config_parses() -> None:
    config = ForEachConfig.model_validate(
        {
            "items": "{{ input.users }}",
            "step": {"type": "http_request", "config": {"url": "https://x/{{ item.id }}"}},
            "concurrency": 20,
        }
    )
    assert config.step.type == "http_request"
    assert config.step.config == {"url": "https://x/{{ item.id }}"}
    assert config.concurrency == 20


def test_defaults() -> None:
    config = ForEachConfig.model_validate({"items": "{{ input.users }}", "step": {"type": "llm"}})
    assert config.concurrency == 5
    assert config.step.config == {}


@pytest.mark.parametrize(
    "config",
    [
        {"step": {"type": "llm"}},
        {"items": "{{ input.users }}"},
        {"items": ["a", "b"], "step": {"type": "llm"}},
        {"items": "{{ x }}", "step": {"config": {}}},
        {"items": "{{ x }}", "step": {"type": ""}},
        {"items": "{{ x }}", "step": {"type": "llm", "retries": 2}},
        {"items": "{{ x }}", "step": {"type": "llm"}, "concurrency": 0},
        {"items": "{{ x }}", "step": {"type": "llm"}, "concurrency": 101},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ForEachConfig.model_validate(config)


def test_nested_for_each_is_refused() -> None:
    inner = {"type": "for_each", "config": {"items": "{{ item }}", "step": {"type": "llm"}}}
    with pytest.raises(ValidationError, match="cannot run another for_each") as caught:
        ForEachConfig.model_validate({"items": "{{ input.groups }}", "step": inner})
    assert caught.value.errors()[0]["loc"] == ("step", "type")


@pytest.mark.parametrize("inner_type", ["approval", "clarification", "for_each"])
def test_an_item_cannot_run_a_step_that_waits_to_be_answered_nor_a_loop(inner_type: str) -> None:
    config = {"items": "{{ input.orders }}", "step": {"type": inner_type, "config": {}}}
    definition = {"nodes": [node("each", "for_each", config)], "edges": []}

    errors = validate_definition(definition, default_registry().specs())

    refused = [e for e in errors if e.path == "config.step.type"]
    assert [(e.code, e.node_id) for e in refused] == [("invalid_config", "each")]
    assert "node 'each'" in refused[0].message
    assert inner_type in refused[0].message


@pytest.mark.parametrize(
    "inner_type", ["delay", "sub_workflow", "http_request", "transform", "wait_for_event"]
)
def test_an_item_may_run_a_step_that_ends_by_itself_or_by_an_event(inner_type: str) -> None:
    inner = {"type": inner_type}
    assert ForEachConfig.model_validate({"items": "{{ x }}", "step": inner}).step.type == inner_type


def test_an_item_cannot_run_an_agent_that_waits_for_a_callback() -> None:
    agent = {"agent": "worker", "input": {}, "wait_for_callback": True}
    config = {"items": "{{ input.orders }}", "step": {"type": "agent", "config": agent}}
    definition = {"nodes": [node("each", "for_each", config)], "edges": []}

    errors = validate_definition(definition, default_registry().specs())

    refused = [e for e in errors if (e.path or "").startswith("config.step")]
    assert [(e.code, e.node_id) for e in refused] == [("invalid_config", "each")]
    assert "callback" in refused[0].message
    answered_at_once = {**agent, "wait_for_callback": False}
    inner = {"type": "agent", "config": answered_at_once}
    assert ForEachConfig.model_validate({"items": "{{ x }}", "step": inner}).step.type == "agent"
