from typing import Any

import pytest
from pydantic import ValidationError

from towpath.steps.condition import STEP, ConditionConfig


def test_expression_parses() -> None:
    config = ConditionConfig.model_validate({"expression": "input.amount > 100"})
    assert config.expression == "input.amount > 100"


@pytest.mark.parametrize("config", [{}, {"expression": ""}, {"expression": True}])
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ConditionConfig.model_validate(config)


def test_leaves_by_true_or_false_and_a_handle_is_required() -> None:
    config = ConditionConfig.model_validate({"expression": "input.ok"})
    assert STEP.branch_handles(config) == frozenset({"true", "false"})
    assert STEP.handle_required() is True


def test_expression_is_declared_as_an_expression_field() -> None:
    assert STEP.expression_fields == ("expression",)
