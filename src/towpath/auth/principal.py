"""The caller of a request, as every service function sees it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from datetime import datetime

# Each role may do what the roles before it may: a viewer reads, an operator also starts,
# cancels, retries and answers runs, an editor also changes workflows, agents, schedules
# and secrets, an admin also manages keys, members and reads the audit log.
ROLES = ("viewer", "operator", "editor", "admin")
Role = Literal["viewer", "operator", "editor", "admin"]


def is_role(value: object) -> bool:
    return value in ROLES


@dataclass(frozen=True)
class Principal:
    # "key:<api key id>" or "user:<JWT sub>": who the audit log names.
    subject: str
    workspace_id: str
    role: str
    # When the credential stops being valid; None for an API key without expiry.
    expires_at: datetime | None = None
    # "api_key", "jwt" or "stream_token".
    kind: str = "api_key"
    # What the access stands on, so it ends when that is revoked: "key:<api key id>",
    # "member:<member id>"; None when nothing here can revoke it (a JWT whose workspace
    # and role come from its claims lasts until it expires).
    grant: str | None = None

    def has_role(self, needed: str) -> bool:
        return self.role in ROLES and ROLES.index(self.role) >= ROLES.index(needed)
