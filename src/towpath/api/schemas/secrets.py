"""Secret requests and responses: a value goes in, never out."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from towpath.api.schemas.strict import RequestModel
from towpath.domain.secrets import MAX_SECRET_BYTES, SECRET_NAME

NAME_RULE = "an identifier: a letter or _, then letters, digits or _ (at most 100)"


def _within_limit(value: str) -> str:
    # The limit is in bytes, as stored; the message never repeats the value.
    if len(value.encode()) > MAX_SECRET_BYTES:
        raise ValueError(f"a secret's value may be at most {MAX_SECRET_BYTES} bytes (64 KiB)")
    return value


class SecretCreate(RequestModel):
    name: str = Field(
        max_length=100, pattern=SECRET_NAME.pattern, description=f"The name: {NAME_RULE}."
    )
    value: str = Field(min_length=1, description="The value; never shown again.")
    description: str | None = Field(default=None, max_length=500)

    _value_size = field_validator("value")(_within_limit)


class SecretRotate(RequestModel):
    value: str = Field(min_length=1, description="The new value; never shown again.")

    _value_size = field_validator("value")(_within_limit)


class SecretResponse(BaseModel):
    """A secret's name and metadata; its value is never returned."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str | None
    created_by: str | None
    created_at: datetime
    rotated_at: datetime | None
