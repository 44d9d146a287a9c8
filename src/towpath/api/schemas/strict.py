"""What every request body is held to: JSON types taken as they are, never converted."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Strict

# A date and a time of day with an offset, as RFC 3339 writes them (seconds optional).
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})", re.ASCII
)
MOMENT_RULE = "an ISO 8601 date and time with an offset, e.g. 2026-11-27T09:30:00Z"


class RequestModel(BaseModel):
    """A request body: unknown fields are refused, and a value must already have its
    field's JSON type: `"yes"`, `"true"` or `1` is no boolean, `"5"` or `5.0` no integer."""

    model_config = ConfigDict(extra="forbid", strict=True)


def whole(value: Any) -> Any:
    # JSON Schema's "integer" is any number without a fraction, 5.0 too; text stays refused.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer in a body, as JSON Schema reads one.
Whole = Annotated[int, BeforeValidator(whole)]


def _moment_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    # Pydantic would also read a number of seconds as a time; the API takes only text.
    if not isinstance(value, str) or _MOMENT.fullmatch(value) is None:
        raise ValueError(f"expected {MOMENT_RULE}")
    return value


def _storable(value: datetime) -> datetime:
    # Times are stored in UTC: 9999-12-31T23:59:59-14:00 is in year 10000 there.
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time in UTC is outside the years 1 to 9999") from None
    return value


# A point in time, in a body or a query parameter.
Moment = Annotated[
    AwareDatetime,
    # Strict validation of a datetime wants a datetime object; the text is checked above.
    Strict(False),
    BeforeValidator(_moment_text),
    AfterValidator(_storable),
]


def _true_or_false(value: Any) -> Any:
    # A query's text: FastAPI alone would take `1`, `yes` and `on` for true, `0` for false.
    if value in ("true", "false"):
        return value == "true"
    if isinstance(value, bool):
        return value
    raise ValueError("expected true or false")


# A boolean in a query string, written as JSON writes one: `true` or `false`.
QueryBoolean = Annotated[bool, BeforeValidator(_true_or_false)]
