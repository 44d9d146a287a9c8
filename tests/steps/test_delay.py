from typing import Any

import pytest
from pydantic import ValidationError

from towpath.domain.step_spec import AS_WRITTEN
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
    parsed = DelayConfig.model_validate(config, context=AS_WRITTEN)
    assert parsed.model_dump(exclude_none=True) == config


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
        {"until": "tomorrow"},
        {"until": "2030-02-31T09:00:00Z"},
        {"until": "2030-01-01T09:00:00+0200"},
        {"seconds": "5"},
        {"seconds": True},
        {"seconds": None, "until": None},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DelayConfig.model_validate(config, context=AS_WRITTEN)


def test_neither_or_both_explain_the_rule() -> None:
    for config in ({}, {"seconds": 1, "until": "{{ input.t }}"}):
        with pytest.raises(ValidationError, match="exactly one of `seconds` and `until`"):
            DelayConfig.model_validate(config, context=AS_WRITTEN)


def test_a_rendered_time_must_be_a_time_even_with_braces_in_it() -> None:
    with pytest.raises(ValidationError, match="neither a time"):
        DelayConfig.model_validate({"until": "{{ not a template any more }}"})


def test_time_without_offset_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs a UTC offset"):
        DelayConfig.model_validate({"until": "2030-01-01T09:00:00"})
