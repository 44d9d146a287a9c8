"""The audit log: appended in the transaction of each change, read by admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from towpath.storage.models import AuditEntry
from towpath.storage.pagination import Page, PageRequest, paginate

if TYPE_CHECKING:
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


async def add_entry(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)
    await session.flush()


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
