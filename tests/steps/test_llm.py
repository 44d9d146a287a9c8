from typing import Any

import pytest
from pydantic import ValidationError

from towpath.steps.llm import LlmConfig

BASE = {"model": "gpt-4o-mini", "prompt": "Classify {{ input.text }}"}


def test_full_config_parses() -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string"}}}
    config = LlmConfig.model_validate(
        {
            **BASE,
            "system": "You classify tickets.",
            "temperature": 0.2,
            "max_tokens": 256,
            "response_format": "json",
            "json_schema": schema,
            "timeout": 120,
            "retry": {"max_attempts": 3, "retry_on": ["timeout", "5xx"]},
        }
    )
    assert config.response_format == "json"
    assert config.json_schema == schema


def test_defaults() -> None:
    config = LlmConfig.model_validate(BASE)
    assert config.response_format == "text"
    assert config.temperature is None
    assert config.json_schema is None


def test_schema_with_a_known_dialect_parses() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    assert LlmConfig.model_validate({**BASE, "json_schema": schema}).json_schema == schema


@pytest.mark.parametrize(
    "config",
    [
        {"model": "gpt-4o-mini"},
        {"prompt": "hi"},
        {**BASE, "prompt": ""},
        {**BASE, "temperature": 2.5},
        {**BASE, "temperature": -0.1},
        {**BASE, "max_tokens": 0},
        {**BASE, "response_format": "xml"},
        {**BASE, "json_schema": "object"},
        {**BASE, "timeout": 1000},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        LlmConfig.model_validate(config)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "objec"}, "not a valid JSON Schema at type"),
        ({"properties": {"a": {"type": 5}}}, "at properties/a/type"),
        ({"required": "a"}, "at required"),
        ({"$schema": "https://example.test/my-dialect"}, "unknown `\\$schema` dialect"),
        ({"$schema": None}, "`\\$schema` must be a string"),
        ({"$schema": ["draft-07"]}, "`\\$schema` must be a string"),
        ({"$ref": "#/$defs/answer"}, "points to nothing"),
        ({"$ref": "https://example.test/answer.json"}, "never fetched"),
    ],
)
def test_invalid_json_schema_is_refused_with_its_reason(
    schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        LlmConfig.model_validate({**BASE, "response_format": "json", "json_schema": schema})
    assert caught.value.errors()[0]["loc"] == ("json_schema",)
