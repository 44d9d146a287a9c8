"""The `delay` step: a durable timer, for a duration or until a time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from towpath.domain.templates import TemplateError
from towpath.steps.common import MAX_WAIT_SECONDS
from towpath.steps.execution import Completed, Deferred, Outcome, StepContext
from towpath.steps.registry import StepType


class DelayConfig(BaseModel):
    """Waits for a number of seconds, or until a point in time; give exactly one."""

    model_config = ConfigDict(extra="forbid")

    seconds: float | None = Field(
        default=None, gt=0, le=MAX_WAIT_SECONDS, description="Seconds to wait (at most 366 days)."
    )
    until: str | None = Field(
        default=None,
        min_length=1,
        description='ISO 8601 time with a UTC offset, or a template, e.g. "{{ input.due }}".',
    )

    @field_validator("until")
    @classmethod
    def _time_or_template(cls, until: str | None) -> str | None:
        if until is None or "{{" in until:
            return until
        try:
            moment = datetime.fromisoformat(until)
        except ValueError:
            raise ValueError(f"{until!r} is neither an ISO 8601 time nor a template") from None
        # A time without an offset means a different instant on every server.
        if moment.utcoffset() is None:
            raise ValueError(f"{until!r} needs a UTC offset, e.g. 'Z' or '+02:00'")
        return until

    @model_validator(mode="after")
    def _exactly_one_of_seconds_and_until(self) -> Self:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("give exactly one of `seconds` and `until`")
        return self


async def execute(config: DelayConfig, context: StepContext) -> Outcome:
    # The due time is fixed on the first execution and saved, so a restart neither
    # loses nor shortens the wait.
    saved = context.saved.get("until")
    if isinstance(saved, str):
        due = datetime.fromisoformat(saved)
    elif config.seconds is not None:
        due = context.now + timedelta(seconds=config.seconds)
    else:
        due = _parse_until(config.until or "")
    if due <= context.now:
        return Completed({"waited_until": due.isoformat()})
    return Deferred(due, {"until": due.isoformat()})


def _parse_until(until: str) -> datetime:
    moment = datetime.fromisoformat(until)
    if moment.utcoffset() is None:
        raise TemplateError(f"delay until {until!r} needs a UTC offset", until)
    return moment


STEP = StepType(
    type="delay",
    label="Delay",
    description="Wait for a duration, or until a point in time, durably.",
    icon="timer",
    category="flow",
    config_model=DelayConfig,
    execute=execute,
)
