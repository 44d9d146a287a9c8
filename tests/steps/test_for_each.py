from typing import Any

import pytest
from pydantic import ValidationError

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

