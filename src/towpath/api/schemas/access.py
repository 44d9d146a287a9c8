"""API keys, members and the audit log: who may do what, and what they did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from towpath.api.schemas.strict import MOMENT_RULE, Moment, RequestModel
from towpath.auth.principal import Role


class ApiKeyCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    expires_at: Moment | None = Field(
        default=None, description=f"{MOMENT_RULE}, in the future; none for a key that never expires"
    )


class ApiKeyResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    # The key's first characters after `tp_`: enough to recognise it, not to use it.
    prefix: str
    role: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    created_by: str | None = Field(
        description="Who made it: the admin's subject (`key:<id>`, `user:<sub>`), `cli` for"
        " `towpath keys create`, `serve` for a new server's first key; null for keys older"
        " than this field"
    )


class ApiKeyCreated(ApiKeyResponse):
    # The whole key, shown this once: only its hash is stored.
    key: str


class MemberCreate(RequestModel):
    subject: str = Field(min_length=1, max_length=200, description="The JWT's `sub`")
    role: Role


class MemberUpdate(RequestModel):
    role: Role


class MemberResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subject: str
    role: str
    created_at: datetime
    updated_at: datetime


class AuditEntryResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor: str
    action: str
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    client_address: str | None
    created_at: datetime
