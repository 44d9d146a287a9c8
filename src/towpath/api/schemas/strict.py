"""What every request body is held to: JSON types taken as they are, never converted."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Strict

# A date and a time of day with an offset, as RFC 3339 writes them (seconds optional).
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})", re.ASCII
)
MOMENT_RULE = "an ISO 8601 date and time with an offset, e.g. 2026-11-27T09:30:00Z"


class RequestModel(BaseModel):
    """A request body: unknown fields are refused, and a value must already have its
    field's JSON type: `"yes"`, `"true"` or `1` is no boolean, `"5"` or `5.0` no integer."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _moment_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    # Pydantic would also read a number of seconds as a time; the API takes only text.
    if not isinstance(value, str) or _MOMENT.fullmatch(value) is None:
        raise ValueError(f"expected {MOMENT_RULE}")
    return value


# A point in time, in a body or a query parameter.
Moment = Annotated[
    AwareDatetime,
    # Strict validation of a datetime wants a datetime object; the text is checked above.
    Strict(False),
    BeforeValidator(_moment_text),
]
