from typing import Any

import pytest
from pydantic import ValidationError

from towpath.steps.delay import DelayConfig


@pytest.mark.parametrize(
    "config",
    [
        {"seconds": 0.5},
        {"seconds": 366 * 24 * 3600},
        {"until": "2030-01-01T09:00:00Z"},
        {"until": "2030-01-01T09:00:00+02:00"},
        {"until": "{{ input.due_at }}"},
    ],
)
def test_valid_config_parses(config: dict[str, Any]) -> None:
    assert DelayConfig.model_validate(config).model_dump(exclude_none=True) == config


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"seconds": 10, "until": "2030-01-01T09:00:00Z"},
        {"seconds": 0},
        {"seconds": -5},
        {"seconds": 366 * 24 * 3600 + 1},
        {"seconds": "soon"},
        {"until": ""},
        {"until": "next tuesday"},
        {"until": 1893456000},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DelayConfig.model_validate(config)


def test_neither_or_both_explain_the_rule() -> None:
    for config in ({}, {"seconds": 1, "until": "{{ input.t }}"}):
        with pytest.raises(ValidationError, match="exactly one of `seconds` and `until`"):
            DelayConfig.model_validate(config)


def test_time_without_offset_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs a UTC offset"):
        DelayConfig.model_validate({"until": "2030-01-01T09:00:00"})
