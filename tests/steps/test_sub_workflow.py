from typing import Any

import pytest
from pydantic import ValidationError

from towpath.domain.step_spec import AS_WRITTEN
from towpath.steps.sub_workflow import SubWorkflowConfig


def test_full_config_parses() -> None:
    config = SubWorkflowConfig.model_validate(
        {"workflow_id": "wf_1", "input": {"user": "{{ input.user }}"}, "wait": False}
    )
    assert config.input == {"user": "{{ input.user }}"}
    assert config.wait is False


def test_defaults() -> None:
    config = SubWorkflowConfig.model_validate({"workflow_id": "wf_1"})
    assert config.input == {}
    assert config.wait is True


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"workflow_id": ""},
        {"workflow_id": 12},
        {"workflow_id": "wf_1", "input": "{{ input }}"},
        {"workflow_id": "wf_1", "wait": "maybe"},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SubWorkflowConfig.model_validate(config, context=AS_WRITTEN)
