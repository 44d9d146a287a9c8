from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from towpath.steps import http_request
from towpath.steps.catalog import default_registry
from towpath.steps.registry import DuplicateStepType

# One small valid config per type, in catalog order.
MINIMAL_CONFIGS: dict[str, dict[str, Any]] = {
    "http_request": {"url": "https://example.test/"},
    "agent": {"agent": "summariser"},
    "llm": {"model": "gpt-4o-mini", "prompt": "Say hi"},
    "condition": {"expression": "input.amount > 100"},
    "switch": {"value": "{{ input.tier }}", "cases": {"gold": "gold"}},
    "transform": {"output": {"name": "{{ input.name }}"}},
    "for_each": {"items": "{{ input.users }}", "step": {"type": "http_request"}},
    "delay": {"seconds": 5},
    "approval": {"message": "Ship it?"},
    "clarification": {"questions": [{"id": "size", "text": "Which size?"}]},
    "sub_workflow": {"workflow_id": "wf_123"},
    "wait_for_event": {"event_name": "payment.received"},
    "task": {"queue": "images"},
    "emit": {"event": "plan_ready"},
}
CATEGORIES = {"integrations", "ai", "logic", "data", "flow"}


def test_default_registry_holds_the_built_in_types_in_catalog_order() -> None:
    registry = default_registry()
    assert [step.type for step in registry] == list(MINIMAL_CONFIGS)


def test_catalog_entries_are_complete() -> None:
    for entry in default_registry().catalog():
        assert set(entry) == {"type", "label", "description", "icon", "category", "config_schema"}
        assert entry["category"] in CATEGORIES
        assert entry["label"]
        assert entry["description"]
        assert entry["icon"]


def test_categories_follow_the_design() -> None:
    categories = {step.type: step.category for step in default_registry()}
    assert categories == {
        "http_request": "integrations",
        "agent": "integrations",
        "llm": "ai",
        "condition": "logic",
        "switch": "logic",
        "transform": "data",
        "for_each": "data",
        "delay": "flow",
        "approval": "flow",
        "clarification": "flow",
        "sub_workflow": "flow",
        "wait_for_event": "flow",
        "task": "integrations",
        "emit": "flow",
    }


def test_each_call_builds_a_fresh_registry() -> None:
    assert default_registry() is not default_registry()


def test_registering_a_type_twice_is_refused() -> None:
    registry = default_registry()
    with pytest.raises(DuplicateStepType, match="http_request"):
        registry.register(http_request.STEP)
    assert len(registry) == 14


@pytest.mark.parametrize("step_type", MINIMAL_CONFIGS)
def test_config_schema_is_valid_json_schema(step_type: str) -> None:
    step = default_registry().get(step_type)
    assert step is not None
    schema = step.config_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False


def _keywords(schema: Any) -> set[str]:
    if isinstance(schema, list):
        return set().union(*map(_keywords, schema))
    if not isinstance(schema, dict):
        return set()
    found = set(schema)
    for key, value in schema.items():
        # Under these the keys are names the schema's author chose, not keywords.
        if key in ("properties", "$defs"):
            found |= set().union(*map(_keywords, value.values()))
        elif key not in ("default", "const", "enum", "examples"):
            found |= _keywords(value)
    return found


@pytest.mark.parametrize("step_type", MINIMAL_CONFIGS)
def test_config_schema_uses_only_json_schema_keywords(step_type: str) -> None:
    # A constraint pydantic cannot express (`ge`, `le`, ...) would be ignored by a form,
    # which would then accept what validation refuses.
    step = default_registry().get(step_type)
    assert step is not None
    vocabulary = set(Draft202012Validator.META_SCHEMA["properties"]) | {
        "$schema",
        "$id",
        "$ref",
        "$defs",
        "type",
        "properties",
        "title",
        "description",
        "default",
        "items",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "enum",
        "const",
        "additionalProperties",
        "propertyNames",
        "required",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        # towpath's annotations: fields that may read secrets, or name one.
        "secret_capable",
        "secret_name",
        "default_secret",
    }

    assert _keywords(step.config_schema()) - vocabulary == set()


@pytest.mark.parametrize(("step_type", "config"), MINIMAL_CONFIGS.items())
def test_minimal_config_parses_and_matches_its_schema(
    step_type: str, config: dict[str, Any]
) -> None:
    step = default_registry().get(step_type)
    assert step is not None
    step.config_model.model_validate(config)
    Draft202012Validator(step.config_schema()).validate(config)


@pytest.mark.parametrize(("step_type", "config"), MINIMAL_CONFIGS.items())
def test_unknown_config_field_is_refused(step_type: str, config: dict[str, Any]) -> None:
    step = default_registry().get(step_type)
    assert step is not None
    with pytest.raises(ValidationError, match="extra_forbidden"):
        step.config_model.model_validate({**config, "colour": "blue"})


@pytest.mark.parametrize("step_type", MINIMAL_CONFIGS)
def test_empty_config_is_refused(step_type: str) -> None:
    step = default_registry().get(step_type)
    assert step is not None
    with pytest.raises(ValidationError):
        step.config_model.model_validate({})


def test_only_branching_types_declare_handles() -> None:
    registry = default_registry()
    branching = {step.type for step in registry if step.handles is not None}
    assert branching == {"condition", "switch", "approval"}
    required = {step.type for step in registry if step.handle_required()}
    assert required == {"condition", "switch"}
