from typing import Any

import pytest
from pydantic import ValidationError

from towpath.domain.step_spec import AS_WRITTEN
from towpath.steps.wait_for_event import WaitForEventConfig


def test_full_config_parses() -> None:
    config = WaitForEventConfig.model_validate(
        {"event_name": "payment.received", "key": "{{ input.order_id }}", "timeout_seconds": 600}
    )
    assert config.key == "{{ input.order_id }}"
    assert config.timeout_seconds == 600


def test_defaults() -> None:
    config = WaitForEventConfig.model_validate({"event_name": "payment.received"})
    assert config.key is None
    assert config.timeout_seconds is None


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"event_name": ""},
        {"event_name": ["a"]},
        {"event_name": "e", "key": 5},
        {"event_name": "e", "timeout_seconds": 0},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        WaitForEventConfig.model_validate(config, context=AS_WRITTEN)
