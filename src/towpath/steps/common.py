"""Config parts several step types share: the config base, its value types, the retry
policy and the timeouts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from towpath.domain.step_spec import is_as_written

DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_TIMEOUT_SECONDS = 300.0
# Human and event waits are durable, so they may last far longer than a call.
MAX_WAIT_SECONDS = 366 * 24 * 60 * 60

RetryOn = Literal["timeout", "5xx", "network", "error"]


class StepConfig(BaseModel):
    """The base of every step type's config: unknown keys are refused, and every value is
    taken exactly as its JSON Schema in the catalog says (strict: no "5" for a number, no
    `true` for 1), so a form built from the catalog and validation agree."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _rendered_value_as_text(value: Any, info: ValidationInfo) -> Any:
    # A lone `{{ expr }}` keeps its value's type, so a template in a text field may give
    # a number or a boolean once rendered; the field then takes the text Jinja writes for
    # it (42 -> "42", true -> "True"), as it would inside a longer text. As written in a
    # definition, a text field takes text only, as its schema says.
    if isinstance(value, int | float) and not is_as_written(info.context):
        return str(value)
    return value


def _integral_number_as_int(value: Any) -> Any:
    # JSON Schema counts 1.0 as an integer; strict int alone would refuse it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A text field, often a template: after rendering, a number or boolean becomes its text.
Text = Annotated[str, BeforeValidator(_rendered_value_as_text)]
# Makes an int a whole number, 3 or 3.0 (never "3" or true). In an Annotated it goes after
# any Field constraints, which then stay JSON Schema keywords (`minimum`, not `ge`).
WHOLE_NUMBER = BeforeValidator(_integral_number_as_int)
Integer = Annotated[int, WHOLE_NUMBER]


class RetryPolicy(StepConfig):
    """How often, and how far apart, a failed attempt is tried again."""

    # Frozen so one instance can be the shared default of every step's `retry`.
    model_config = ConfigDict(frozen=True)

    max_attempts: Integer = Field(
        default=1, ge=1, le=20, description="Attempts in total, the first included."
    )
    backoff_seconds: float = Field(
        default=1.0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds to wait before the first retry; each later wait doubles it.",
    )
    max_backoff_seconds: float = Field(
        default=300.0,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description=(
            "Upper bound on every wait between two attempts, the first included: a"
            " `backoff_seconds` above it waits this long."
        ),
    )
    retry_on: list[RetryOn] | None = Field(
        default=None,
        description="Failure kinds worth another attempt; unset means the step type's default.",
    )


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
    Annotated[int, Field(gt=0, le=MAX_WAIT_SECONDS), WHOLE_NUMBER] | None,
    Field(description="Seconds to wait before `on_timeout` applies; unset waits forever."),
]


def exactly_one_of(*names: str) -> dict[str, Any]:
    """JSON Schema for "exactly one of these fields is given" (a null counts as not given),
    the rule a model validator checks beside it."""
    return {
        "oneOf": [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names
        ]
    }
