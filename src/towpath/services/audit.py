"""The audit trail: one row per change, written in the transaction of the change."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.engine.sql import execute
from towpath.observability.logs import current
from towpath.storage import audit as queries
from towpath.storage.audit import NewEntry

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction
    from towpath.storage.audit import AuditFilter
    from towpath.storage.database import Database
    from towpath.storage.models import AuditEntry
    from towpath.storage.pagination import Page, PageRequest


@dataclass(frozen=True)
class Change:
    action: str
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


async def record(session: AsyncSession, caller: Principal, change: Change) -> None:
    """Append the change in the caller's session: it commits or rolls back with it."""
    await queries.add_entry(session, _entry(caller, change, Origin(), utcnow()))


@dataclass(frozen=True)
class Origin:
    """Where a request came from, taken in the request's task: an engine transition may
    run on another thread, which does not see the request's context."""

    request_id: str | None = field(default_factory=lambda: current("request_id"))
    client_address: str | None = field(default_factory=lambda: current("client_address"))


def record_in_transition(
    d: Dialect, caller: Principal, change: Change, origin: Origin, now: datetime | None = None
) -> Gen[None]:
    """Append the change inside an engine transition: one more statement, no more trips."""
    entry = _entry(caller, change, origin, now or utcnow())
    yield from execute(queries.INSERT_ENTRY, *entry.values(d.doc, d.time))


def _entry(caller: Principal, change: Change, origin: Origin, now: datetime) -> NewEntry:
    return NewEntry(
        workspace_id=caller.workspace_id,
        actor=caller.subject,
        action=change.action,
        resource_type=change.resource_type,
        resource_id=change.resource_id,
        before=change.before,
        after=change.after,
        request_id=origin.request_id,
        client_address=origin.client_address,
        created_at=now,
    )


@dataclass(frozen=True)
class RunAction:
    """What a caller did to a run, audited inside the run's own transition."""

    caller: Principal
    action: str
    details: dict[str, Any] = field(default_factory=dict)
    origin: Origin = field(default_factory=Origin)

    def record(self, rt: RunTransaction, before_status: str | None) -> Gen[None]:
        before = {"status": before_status} if before_status is not None else None
        after = {"status": rt.run.status, "workflow_id": rt.run.workflow_id, **self.details}
        change = Change(self.action, "run", rt.run.id, before, after)
        yield from record_in_transition(rt.d, self.caller, change, self.origin, rt.now)

    def cascaded(self, child: RunTransaction) -> RunAction:
        return replace(
            self, action="run.cancel", details={"parent_run_id": child.run.parent_run_id}
        )


async def list_entries(
    db: Database, caller: Principal, page: PageRequest, where: AuditFilter
) -> Page[AuditEntry]:
    return await db.reading(queries.list_entries, caller.workspace_id, page, where)
