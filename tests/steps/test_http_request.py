from typing import Any

import pytest
from pydantic import ValidationError

from towpath.domain.step_spec import AS_WRITTEN
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


def test_a_lower_case_method_is_refused_as_written_but_runs_when_published_before() -> None:
    with pytest.raises(ValidationError, match="'GET', 'POST'"):
        HttpRequestConfig.model_validate({"method": "patch", "url": "x"}, context=AS_WRITTEN)
    assert HttpRequestConfig.model_validate({"method": "patch", "url": "x"}).method == "PATCH"


def test_numbers_and_booleans_a_template_gave_become_text() -> None:
    rendered = {"url": 42, "headers": {"X-Count": 3, "X-Flag": True}}
    config = HttpRequestConfig.model_validate(rendered)
    assert (config.url, config.headers) == ("42", {"X-Count": "3", "X-Flag": "True"})


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
        {"url": "x", "method": "get"},
        {"url": "x", "timeout": "5"},
        {"url": "x", "timeout": True},
        {"url": "x", "retry": {"max_attempts": True}},
        {"url": "x", "retry": {"max_attempts": "3"}},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HttpRequestConfig.model_validate(config, context=AS_WRITTEN)
