"""Agent registry requests and responses, and the callbacks of agents that answered 202."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, JsonValue
from yarl import URL

from towpath.api.schemas.strict import RequestModel, Whole
from towpath.api.schemas.subscriptions import URL_PATTERN
from towpath.steps.common import MAX_TIMEOUT_SECONDS, MAX_WAIT_SECONDS, RetryPolicy


def _http_url(value: str) -> str:
    try:
        url = URL(value)
    except ValueError as error:
        raise ValueError(f"not a URL: {error}") from error
    if url.scheme not in ("http", "https"):
        raise ValueError("must be an http or https URL")
    if not url.host:
        raise ValueError("must name a host")
    return value


HttpUrl = Annotated[
    str,
    # The pattern says in the document what the check after it accepts.
    Field(min_length=1, max_length=2048, pattern=URL_PATTERN),
    AfterValidator(_http_url),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
HeaderName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
]
Tag = Annotated[str, Field(min_length=1, max_length=100)]
Headers = Annotated[
    dict[HeaderName, Annotated[str, Field(max_length=8192)]],
    Field(
        max_length=50,
        description="Sent with every call; values may be templates such as"
        " `Bearer {{ secrets.AGENT_TOKEN }}`, rendered with the run's secrets",
        # A name the pattern refuses is refused: the document must not allow it either.
        json_schema_extra={"additionalProperties": False},
    ),
]
Seconds = Annotated[float, Field(gt=0, le=MAX_TIMEOUT_SECONDS)]


class AgentFields(RequestModel):
    """What PUT sets: every field, the omitted ones back to their defaults."""

    name: Name = Field(description="Unique in the workspace; steps may name the agent by it")
    url: HttpUrl = Field(description="The endpoint `agent` steps POST their input to")
    kind: str = Field(default="http", min_length=1, max_length=64)
    description: str = Field(default="", max_length=10_000)
    health_url: HttpUrl | None = Field(
        default=None, description="Where health checks GET; unset checks `url`"
    )
    config: dict[str, JsonValue] = Field(default_factory=dict)
    capabilities: list[Tag] = Field(default_factory=list, max_length=100)
    headers: Headers = Field(default_factory=dict)
    timeout_seconds: Seconds = Field(default=30.0, description="How long one call may take")
    retry: RetryPolicy = Field(
        default_factory=RetryPolicy,
        description="Retries of a failed call, unless the step sets its own",
    )
    enabled: bool = True

    def stored(self) -> dict[str, Any]:
        found = self.model_dump(mode="json")
        found["retry"] = self.retry.model_dump(mode="json", exclude_defaults=True)
        return found


class AgentCreate(AgentFields):
    pass


class AgentPatch(RequestModel):
    """What PATCH changes: only the fields given."""

    name: Name | None = None
    url: HttpUrl | None = None
    kind: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=10_000)
    health_url: HttpUrl | None = None
    config: dict[str, JsonValue] | None = None
    capabilities: list[Tag] | None = Field(default=None, max_length=100)
    headers: Headers | None = None
    timeout_seconds: Seconds | None = None
    retry: RetryPolicy | None = None
    enabled: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields given, as stored. Null leaves a field as it is, but the health URL's,
        which unsets it (health checks then call `url`)."""
        given = {
            k: v
            for k, v in self.model_dump(mode="json", include=self.model_fields_set).items()
            if v is not None or k == "health_url"
        }
        if self.retry is not None:
            given["retry"] = self.retry.model_dump(mode="json", exclude_defaults=True)
        return given


class HealthCheckResponse(BaseModel):
    status: str = Field(description="`up` (a 2xx answer in time) or `down`")
    status_code: int | None
    latency_ms: float
    checked_at: datetime
    url: str
    error: str | None


class AgentHealthResponse(HealthCheckResponse):
    agent_id: str
    recent: list[HealthCheckResponse] = Field(description="The checks kept, newest first")


class AgentResponse(BaseModel):
    id: str
    name: str
    kind: str
    description: str
    url: str
    health_url: str | None
    config: dict[str, Any]
    capabilities: list[str]
    headers: dict[str, Any]
    timeout_seconds: float
    retry: dict[str, Any]
    enabled: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    last_health: HealthCheckResponse | None = None


def check_response(check: Any) -> HealthCheckResponse:
    return HealthCheckResponse(
        status="up" if check.up else "down",
        status_code=check.status_code,
        latency_ms=check.latency_ms,
        checked_at=check.checked_at,
        url=check.url,
        error=check.error,
    )


def agent_response(agent: Any, recent: list[Any] | None = None) -> AgentResponse:
    fields = {
        name: getattr(agent, name) for name in AgentResponse.model_fields if name != "last_health"
    }
    last = check_response(recent[0]) if recent else None
    return AgentResponse(**fields, last_health=last)


def health_response(check: Any, recent: list[Any]) -> AgentHealthResponse:
    return AgentHealthResponse(
        **check_response(check).model_dump(),
        agent_id=check.agent_id,
        recent=[check_response(item) for item in recent],
    )


class CallbackComplete(RequestModel):
    token: str = Field(
        min_length=1, max_length=200, description="The `callback_token` sent with the call"
    )
    output: JsonValue = Field(default=None, description="The step's output")


class CallbackFail(RequestModel):
    token: str = Field(min_length=1, max_length=200)
    error: str = Field(min_length=1, max_length=10_000, description="What went wrong")


class CallbackHeartbeat(RequestModel):
    token: str = Field(min_length=1, max_length=200)
    extend_seconds: Whole = Field(
        default=3600, gt=0, le=MAX_WAIT_SECONDS, description="The step's new deadline, from now"
    )


class CallbackAnswer(BaseModel):
    run_id: str
    step_id: str
    run_status: str
    step_status: str
    deadline: datetime | None = None
