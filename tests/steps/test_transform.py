from typing import Any

import pytest
from pydantic import ValidationError

from towpath.steps.transform import TransformConfig


def test_nested_output_parses() -> None:
    output = {"user": {"name": "{{ input.name }}", "tags": ["a", 1, None]}, "ok": True}
    assert TransformConfig.model_validate({"output": output}).output == output


@pytest.mark.parametrize(
    "config",
    [{}, {"output": "{{ input }}"}, {"output": ["a"]}, {"output": {"when": object()}}],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TransformConfig.model_validate(config)
