from typing import Any

import pytest
from pydantic import ValidationError

from towpath.steps.http_request import HttpRequestConfig


def test_full_config_parses() -> None:
    config = HttpRequestConfig.model_validate(
        {
            "method": "POST",
            "url": "https://api.example.test/users/{{ input.id }}",
            "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"},
            "body": {"name": "{{ input.name }}", "tags": [1, None, True]},
            "timeout": 12.5,
            "retry": {"max_attempts": 3, "backoff_seconds": 2},
            "allow_status": [404, 409],
        }
    )
    assert config.method == "POST"
    assert config.retry.max_attempts == 3
    assert config.allow_status == [404, 409]


def test_defaults() -> None:
    config = HttpRequestConfig.model_validate({"url": "{{ input.url }}"})
    assert config.method == "GET"
    assert config.timeout == 30
    assert config.headers == {}
    assert config.body is None
    assert config.retry.max_attempts == 1
    assert config.allow_status == []


def test_lower_case_method_is_accepted() -> None:
    assert HttpRequestConfig.model_validate({"method": "patch", "url": "x"}).method == "PATCH"


@pytest.mark.parametrize(
    "config",
    [
        {"method": "GET"},
        {"url": ""},
        {"url": "https://x/" + "a" * 2048},
        {"url": 42},
        {"url": "x", "method": "FETCH"},
        {"url": "x", "headers": {"X-Count": 3}},
        {"url": "x", "timeout": 0},
        {"url": "x", "timeout": 301},
        {"url": "x", "retry": {"max_attempts": 0}},
        {"url": "x", "allow_status": [99]},
        {"url": "x", "allow_status": [404.5]},
        {"url": "x", "allow_status": "404"},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HttpRequestConfig.model_validate(config)
