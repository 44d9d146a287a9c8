"""Settings of outgoing webhook deliveries, mixed into `towpath.config.Settings`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

from towpath.auth.settings import split_list

# After each failed attempt, the wait before the next: about a day from the first
# attempt to the last (23.7 hours over 11 attempts); past the list the delivery is given up.
DEFAULT_RETRY_SECONDS = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800]


class OutboxSettings(BaseModel):
    # A comma-separated list in the environment: TOWPATH_OUTBOX_RETRY_SECONDS=5,30,120
    outbox_retry_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [float(s) for s in DEFAULT_RETRY_SECONDS]
    )
    # How long a receiver has to answer one delivery.
    outbox_timeout_seconds: float = Field(default=10.0, gt=0)
    # How often the dispatcher looks for due deliveries when nothing wakes it sooner
    # (events committed in this process wake it at once).
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    # Deliveries sent at once by one process.
    outbox_concurrency: int = Field(default=16, ge=1, le=1000)
    # A subscription is disabled when every attempt has failed this long, or when this
    # many deliveries in a row were given up; any delivered attempt resets both.
    outbox_disable_after_seconds: float = Field(default=24 * 3600.0, gt=0)
    outbox_disable_after_given_up: int = Field(default=10, ge=1)

    @field_validator("outbox_retry_seconds", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("outbox_retry_seconds")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if any(seconds <= 0 for seconds in value):
            raise ValueError("every retry wait is a positive number of seconds")
        return value
