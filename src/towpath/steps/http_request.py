"""The `http_request` step: calls a URL with a method, headers, body and timeout."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, JsonValue, ValidationInfo, field_validator

from towpath.domain.secrets import SECRET_CAPABLE
from towpath.domain.step_spec import is_as_written
from towpath.steps.common import (
    DEFAULT_TIMEOUT_SECONDS,
    SINGLE_ATTEMPT,
    WHOLE_NUMBER,
    Retry,
    StepConfig,
    Text,
    Timeout,
)
from towpath.steps.execution import Completed, Failed
from towpath.steps.http_call import send
from towpath.steps.registry import StepType

if TYPE_CHECKING:
    from towpath.steps.execution import Outcome, StepContext

# As written, a URL starts with http:// or https:// and a host (a template may give the
# host), or leaves its scheme to a template: no `:` comes before the first `{{`, `{%` or
# `{#`. `file://{{ x }}` and `localhost:8080/x` are refused; a rendered URL is checked
# when it is called. Linear in the URL: no quantifier is nested.
WRITTEN_URL = re.compile(r"^(?:[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]|[^:{]*\{[{%#])")

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
StatusCode = Annotated[int, Field(ge=100, le=599), WHOLE_NUMBER]


class HttpRequestConfig(StepConfig):
    """Calls a URL and returns its status, headers and body."""

    method: HttpMethod = Field(default="GET", description="HTTP method, in capitals.")
    url: Text = Field(
        min_length=1,
        max_length=2048,
        description=(
            'http:// or https:// URL to call; may be a template, e.g. "https://x/{{ input.id'
            ' }}". A template that gives the scheme too is checked once rendered.'
        ),
        json_schema_extra={"pattern": WRITTEN_URL.pattern, SECRET_CAPABLE: True},
    )
    headers: dict[str, Text] = Field(
        default_factory=dict,
        description="Request headers; values may be templates, `{{ secrets.NAME }}` among them.",
        json_schema_extra={SECRET_CAPABLE: True},
    )
    body: JsonValue = Field(
        default=None, description="Request body (any JSON value); strings may be templates."
    )
    timeout: Timeout = DEFAULT_TIMEOUT_SECONDS
    retry: Retry = SINGLE_ATTEMPT
    allow_status: list[StatusCode] = Field(
        default_factory=list,
        description="Status codes of 400 and above that count as success, not failure.",
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper_case_method(cls, value: Any, info: ValidationInfo) -> Any:
        # Definitions published before the method was held to its schema may say "get";
        # they still run. A definition checked now is held to the capitals.
        if isinstance(value, str) and not is_as_written(info.context):
            return value.upper()
        return value

    @field_validator("url")
    @classmethod
    def _http_or_https(cls, url: str, info: ValidationInfo) -> str:
        if is_as_written(info.context) and not WRITTEN_URL.match(url):
            raise ValueError(
                "the URL must start with http:// or https:// and a host, or with a template"
                " that gives them (other schemes, such as file://, are never called)"
            )
        return url


async def execute(config: HttpRequestConfig, context: StepContext) -> Outcome:
    """Call the URL once; output its status, headers and body (JSON when it says so)."""
    text_body = config.body if isinstance(config.body, str) else None
    answer = await send(
        context.services.http,
        config.method,
        config.url,
        idempotency_key=context.idempotency_key,
        timeout_seconds=config.timeout,
        headers=config.headers,
        json_body=None if text_body is not None else config.body,
        text_body=text_body,
        allow_status=config.allow_status,
        # As a browser, curl -L or n8n would: a moved resource is still the one asked for.
        follow_redirects=True,
        log=context.log,
        breakers=context.services.breakers,
    )
    if isinstance(answer, Failed):
        return answer
    return Completed({"status": answer.status, "headers": answer.headers, "body": answer.body()})


STEP = StepType(
    type="http_request",
    label="HTTP request",
    description="Call a URL with a method, headers, body and timeout.",
    icon="globe",
    category="integrations",
    config_model=HttpRequestConfig,
    execute=execute,
)
