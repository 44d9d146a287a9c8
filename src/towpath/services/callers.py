"""Who the caller is: its workspace, its role, and the credential it came with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from towpath.domain.errors import NotFound
from towpath.storage import api_keys, workspaces

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.auth.principal import Principal
    from towpath.storage.database import Database
    from towpath.storage.models import ApiKey, Workspace


@dataclass(frozen=True)
class CallerIdentity:
    workspace: Workspace
    role: str
    # "api_key" or "jwt".
    authenticated_by: str
    # The API key it came with; None for a JWT.
    api_key: ApiKey | None
    # The JWT's `sub`; None for an API key.
    subject: str | None
    expires_at: datetime | None


async def describe_caller(db: Database, caller: Principal) -> CallerIdentity:
    async with db.read() as session:
        workspace = await workspaces.find_workspace(session, caller.workspace_id)
        if workspace is None:
            raise NotFound("the caller's workspace no longer exists")
        key = None
        if caller.kind == "api_key":
            key_id = caller.subject.removeprefix("key:")
            key = await api_keys.get_key(session, caller.workspace_id, key_id)
    subject = caller.subject.removeprefix("user:") if caller.kind == "jwt" else None
    return CallerIdentity(workspace, caller.role, caller.kind, key, subject, caller.expires_at)
