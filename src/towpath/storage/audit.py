"""The audit log: appended in the transaction of each change, read by admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from towpath.storage.models import AuditEntry
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.statements import as_is, for_session, positional
from towpath.storage.types import JSONDoc, UTCDateTime

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"created_at": AuditEntry.created_at, "action": AuditEntry.action}


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class NewEntry:
    """One row of the audit log, in the column order of INSERT_ENTRY."""

    workspace_id: str
    actor: str
    action: str
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    client_address: str | None
    created_at: datetime

    def values(
        self, doc: Callable[[Any], Any] = as_is, time: Callable[[datetime], Any] = as_is
    ) -> tuple[Any, ...]:
        """INSERT_ENTRY's values; `doc` and `time` encode documents and times for a
        driver that needs it."""
        return (
            self.workspace_id,
            self.actor,
            self.action,
            self.resource_type,
            self.resource_id,
            doc(self.before),
            doc(self.after),
            self.request_id,
            self.client_address,
            time(self.created_at),
        )


# Appended in a session (`add_entry`) and inside engine transitions, in the transaction
# of the change it records.
INSERT_ENTRY = (
    "INSERT INTO audit_log (workspace_id, actor, action, resource_type, resource_id,"
    " before, after, request_id, client_address, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_ENTRY = for_session(
    INSERT_ENTRY, None, None, None, None, None, JSONDoc, JSONDoc, None, None, UTCDateTime()
)


async def add_entry(session: AsyncSession, entry: NewEntry) -> None:
    await session.execute(_INSERT_ENTRY, positional(*entry.values()))


async def list_entries(
    session: AsyncSession, workspace_id: str, page: PageRequest, where: AuditFilter
) -> Page[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id)
    for column, value in (
        (AuditEntry.actor, where.actor),
        (AuditEntry.action, where.action),
        (AuditEntry.resource_type, where.resource_type),
        (AuditEntry.resource_id, where.resource_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if where.since is not None:
        stmt = stmt.where(AuditEntry.created_at >= where.since)
    if where.until is not None:
        stmt = stmt.where(AuditEntry.created_at < where.until)
    return await paginate(session, stmt, page, SORTABLE, "-created_at", tiebreak=AuditEntry.id)
