"""Workspace groups: named lists of principals that approvals name as `group:<name>`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from towpath.api.schemas.strict import RequestModel

GROUP_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
GroupName = Annotated[
    str, Field(pattern=GROUP_NAME, description="Letters, digits, `_`, `.` and `-`; 1 to 100")
]


def _principal(value: str) -> str:
    if value.startswith("group:"):
        raise ValueError("a group lists principals, not other groups")
    kind, colon, name = value.partition(":")
    if colon and kind in ("role", "key", "user") and not name:
        raise ValueError(f"{value!r} names no {kind}")
    return value


Principal = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_principal)]


def _distinct(members: list[str]) -> list[str]:
    return list(dict.fromkeys(members))


Members = Annotated[
    list[Principal],
    Field(
        max_length=1000,
        description=(
            "`role:<role>` (that role or a higher one), `key:<api key id>`, `user:<subject>`"
            " or a bare JWT subject; a repeated entry counts once"
        ),
    ),
    AfterValidator(_distinct),
]


class GroupCreate(RequestModel):
    name: GroupName
    members: Members


class GroupUpdate(RequestModel):
    members: Members


class GroupResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    members: list[str]
    created_at: datetime
    updated_at: datetime
