from typing import Any

import pytest
from pydantic import ValidationError

from towpath.domain.step_spec import AS_WRITTEN
from towpath.steps.condition import ConditionConfig
from towpath.steps.switch import STEP, SwitchConfig


def test_cases_parse() -> None:
    config = SwitchConfig.model_validate(
        {"value": "{{ input.tier }}", "cases": {"gold_path": "gold", "silver_path": "silver"}}
    )
    assert config.cases == {"gold_path": "gold", "silver_path": "silver"}


@pytest.mark.parametrize(
    "config",
    [
        {"cases": {"a": "a"}},
        {"value": "{{ input.tier }}"},
        {"value": "{{ input.tier }}", "cases": {}},
        {"value": "{{ input.tier }}", "cases": {"": "a"}},
        {"value": "{{ input.tier }}", "cases": {"a": 1}},
        {"value": "{{ input.tier }}", "cases": ["a", "b"]},
        {"value": "", "cases": {"a": "a"}},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SwitchConfig.model_validate(config, context=AS_WRITTEN)


def test_default_cannot_name_a_case() -> None:
    with pytest.raises(ValidationError, match="'default' is reserved"):
        SwitchConfig.model_validate({"value": "x", "cases": {"default": "x", "a": "a"}})


def test_handles_are_the_case_names_and_default() -> None:
    config = SwitchConfig.model_validate({"value": "x", "cases": {"gold": "g", "silver": "s"}})
    assert STEP.branch_handles(config) == frozenset({"gold", "silver", "default"})
    assert STEP.handle_required() is True


def test_handles_of_another_config_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="SwitchConfig"):
        STEP.branch_handles(ConditionConfig(expression="x"))
