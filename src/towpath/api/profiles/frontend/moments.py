"""The time filters of the front end's run list, as its client sends them: a time without
an offset is UTC, and a date alone is that whole day (`since` from its start, `until` to
its end). towpath's own `GET /runs` keeps asking for an offset."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Query
from pydantic import BeforeValidator

from towpath.api.schemas.strict import MOMENT_RULE, Moment

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", re.ASCII)
RULE = f"{MOMENT_RULE}; without an offset, UTC; a date alone (2026-11-27) is that day"


def _read(days_after: int) -> BeforeValidator:
    def read(value: Any) -> Any:
        if isinstance(value, str) and _DAY.fullmatch(value):
            start = datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
            return (start + timedelta(days=days_after)).isoformat()
        if isinstance(value, str) and _NAIVE.fullmatch(value):
            return f"{value}+00:00"
        return value

    return BeforeValidator(read)


Since = Annotated[
    Annotated[Moment, _read(0)] | None, Query(description=f"Created at or after this: {RULE}")
]
Until = Annotated[
    Annotated[Moment, _read(1)] | None,
    Query(description=f"Created before this (a date: before its end): {RULE}"),
]
