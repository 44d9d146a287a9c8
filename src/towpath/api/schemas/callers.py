"""Who the caller is, as `GET /api/v1/me` tells it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from towpath.auth.principal import Role


class CallerWorkspace(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str


class CallerKey(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str = Field(description="The key's first characters after `tp_`")


class CallerResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    workspace: CallerWorkspace = Field(description="Where the caller's requests act")
    role: Role
    authenticated_by: Literal["api_key", "jwt"]
    api_key: CallerKey | None = Field(description="The API key used; null for a JWT")
    subject: str | None = Field(description="The JWT's `sub`; null for an API key")
    expires_at: datetime | None = Field(
        description="When the credential stops being valid; null for a key without expiry"
    )
