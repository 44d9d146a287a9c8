"""The `delay` step: a durable timer, for a duration or until a time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Self

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from towpath.domain.step_spec import is_as_written
from towpath.domain.templates import TemplateError
from towpath.steps.common import MAX_WAIT_SECONDS, StepConfig, Text, exactly_one_of
from towpath.steps.execution import Completed, Deferred, Failed, Outcome, StepContext
from towpath.steps.registry import StepType

# An RFC 3339 time with its UTC offset (`Z` or `+02:00`); the catalog's schema holds the
# same pattern, so a form refuses what validation refuses.
_LOCAL_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
_TIME = _LOCAL_TIME + r"(Z|[+-][0-9]{2}:[0-9]{2})"
_TIME_OR_TEMPLATE = rf"^{_TIME}$|\{{\{{"

# The pattern is for the catalog's schema; the validator below checks the same.
Until = Annotated[Text, Field(min_length=1, json_schema_extra={"pattern": _TIME_OR_TEMPLATE})]


class DelayConfig(StepConfig):
    """Waits for a number of seconds, or until a point in time; give exactly one."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("seconds", "until"))

    seconds: float | None = Field(
        default=None, gt=0, le=MAX_WAIT_SECONDS, description="Seconds to wait (at most 366 days)."
    )
    until: Until | None = Field(
        default=None,
        description=(
            "A time with its UTC offset, e.g. 2030-01-01T09:00:00Z, or a template giving one,"
            ' e.g. "{{ input.due }}". It must be a real date too (no 31 February), which'
            " the pattern cannot tell; one more than 366 days away when the step runs fails"
            " the step, as `seconds` would be refused."
        ),
    )

    @field_validator("until")
    @classmethod
    def _time_or_template(cls, until: str | None, info: ValidationInfo) -> str | None:
        # Once rendered, braces are data, never a template still to come.
        if until is None or ("{{" in until and is_as_written(info.context)):
            return until
        if re.fullmatch(_TIME, until) is None:
            if re.fullmatch(_LOCAL_TIME, until):
                # A time without an offset means a different instant on every server.
                raise ValueError(f"{until!r} needs a UTC offset, e.g. 'Z' or '+02:00'")
            raise ValueError(
                f"{until!r} is neither a time like 2030-01-01T09:00:00Z nor a template"
            )
        try:
            datetime.fromisoformat(until).astimezone(UTC)
        except ValueError:
            raise ValueError(f"{until!r} is not a real date and time") from None
        except OverflowError:
            # 9999-12-31T23:00:00-02:00 is past the last moment a server can hold.
            raise ValueError(f"{until!r} is past the last time that can be kept") from None
        return until

    @model_validator(mode="after")
    def _exactly_one_of_seconds_and_until(self) -> Self:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("give exactly one of `seconds` and `until`")
        return self


def run(config: DelayConfig, context: StepContext) -> Outcome:
    # The due time is fixed on the first execution and saved, so a restart neither
    # loses nor shortens the wait.
    saved = context.saved.get("until")
    if isinstance(saved, str):
        due = datetime.fromisoformat(saved)
    elif config.seconds is not None:
        due = context.now + timedelta(seconds=config.seconds)
    else:
        due = _parse_until(config.until or "")
        if due - context.now > _LONGEST_WAIT:
            return Failed(
                f"delay until {due.isoformat()} is more than 366 days away; a delay waits"
                " at most that long",
                kind="error",
                retryable=False,
            )
    if due <= context.now:
        return Completed({"waited_until": due.isoformat()})
    return Deferred(due, {"until": due.isoformat()})


_LONGEST_WAIT = timedelta(seconds=MAX_WAIT_SECONDS)


def _parse_until(until: str) -> datetime:
    try:
        moment = datetime.fromisoformat(until)
    except ValueError:
        raise TemplateError(f"delay until {until!r} is not a time", until) from None
    if moment.utcoffset() is None:
        raise TemplateError(f"delay until {until!r} needs a UTC offset", until)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise TemplateError(
            f"delay until {until!r} is past the last time that can be kept", until
        ) from None
    return moment


async def execute(config: DelayConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="delay",
    label="Delay",
    description="Wait for a duration, or until a point in time, durably.",
    icon="timer",
    category="flow",
    config_model=DelayConfig,
    execute=execute,
    # No I/O: it may run inside the transaction that made it ready.
    inline=run,
)
