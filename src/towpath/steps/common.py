"""Config parts several step types share: the retry policy and the timeouts."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_TIMEOUT_SECONDS = 300.0
# Human and event waits are durable, so they may last far longer than a call.
MAX_WAIT_SECONDS = 366 * 24 * 60 * 60

RetryOn = Literal["timeout", "5xx", "network", "error"]


class RetryPolicy(BaseModel):
    """How often, and how far apart, a failed attempt is tried again."""

    # Frozen so one instance can be the shared default of every step's `retry`.
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(
        default=1, ge=1, le=20, description="Attempts in total, the first included."
    )
    backoff_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Seconds to wait before the first retry.",
    )
    max_backoff_seconds: float = Field(
        default=300.0, ge=0, description="Upper bound on the wait between two attempts."
    )
    retry_on: list[RetryOn] | None = Field(
        default=None,
        description="Failure kinds worth another attempt; unset means the step type's default.",
    )

    @model_validator(mode="after")
    def _backoff_within_bound(self) -> Self:
        if self.backoff_seconds > self.max_backoff_seconds:
            raise ValueError("backoff_seconds may not exceed max_backoff_seconds")
        return self


SINGLE_ATTEMPT = RetryPolicy()

Retry = Annotated[RetryPolicy, Field(description="Retry policy for failed attempts.")]

Timeout = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_TIMEOUT_SECONDS,
        description="Seconds one attempt may take before it fails as a timeout.",
    ),
]

WaitTimeout = Annotated[
    int | None,
    Field(
        gt=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds to wait before `on_timeout` applies; unset waits forever.",
    ),
]
