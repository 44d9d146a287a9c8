"""Workflow queries. Every one is scoped to a workspace; soft-deleted rows are invisible."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from towpath.domain.errors import WorkflowNotFound
from towpath.storage.models import Workflow
from towpath.storage.pagination import Page, PageRequest, paginate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {
    "created_at": Workflow.created_at,
    "updated_at": Workflow.updated_at,
    "name": Workflow.name,
    "version": Workflow.version,
}


def _visible(workspace_id: str) -> Any:
    return select(Workflow).where(
        Workflow.workspace_id == workspace_id, Workflow.deleted_at.is_(None)
    )


async def get_workflow(
    session: AsyncSession, workspace_id: str, workflow_id: str, *, for_update: bool = False
) -> Workflow:
    stmt = _visible(workspace_id).where(Workflow.id == workflow_id)
    if for_update:
        stmt = stmt.with_for_update()
    found: Workflow | None = await session.scalar(stmt)
    if found is None:
        raise WorkflowNotFound(workflow_id)
    return found


async def list_workflows(
    session: AsyncSession, workspace_id: str, page: PageRequest, *, status: str | None = None
) -> Page[Workflow]:
    stmt = _visible(workspace_id)
    if status is not None:
        stmt = stmt.where(Workflow.status == status)
    return await paginate(session, stmt, page, SORTABLE, "-created_at", tiebreak=Workflow.id)


async def list_versions(
    session: AsyncSession, workspace_id: str, lineage_id: str, page: PageRequest
) -> Page[Workflow]:
    stmt = _visible(workspace_id).where(Workflow.lineage_id == lineage_id)
    return await paginate(session, stmt, page, SORTABLE, "version", tiebreak=Workflow.id)


async def lock_lineage(session: AsyncSession, lineage_id: str) -> None:
    """Hold the lineage's first version (its id is the lineage id) until the transaction
    ends: whoever numbers a new version of the lineage takes turns on this row."""
    await session.execute(select(Workflow.id).where(Workflow.id == lineage_id).with_for_update())


async def newest_version(session: AsyncSession, workspace_id: str, lineage_id: str) -> Workflow:
    """The lineage's newest version not deleted, draft or published."""
    stmt = _visible(workspace_id).where(Workflow.lineage_id == lineage_id)
    found: Workflow | None = await session.scalar(stmt.order_by(Workflow.version.desc()).limit(1))
    if found is None:
        raise WorkflowNotFound(lineage_id)
    return found


async def next_version(session: AsyncSession, lineage_id: str) -> int:
    # Deleted versions count too: a version number is never handed out twice.
    latest = await session.scalar(
        select(func.max(Workflow.version)).where(Workflow.lineage_id == lineage_id)
    )
    return (latest or 0) + 1


async def add_workflow(session: AsyncSession, workflow: Workflow) -> Workflow:
    session.add(workflow)
    await session.flush()
    return workflow


async def get_many(session: AsyncSession, workspace_id: str, ids: list[str]) -> list[Workflow]:
    if not ids:
        return []
    found = await session.scalars(_visible(workspace_id).where(Workflow.id.in_(ids)))
    return list(found)


async def set_lineage_paused(
    session: AsyncSession, workspace_id: str, lineage_id: str, paused: bool
) -> None:
    """Every version of the workflow, deleted drafts included: a version made later (by
    duplicating one) takes the flag of the one it copies."""
    await session.execute(
        update(Workflow)
        .where(Workflow.workspace_id == workspace_id, Workflow.lineage_id == lineage_id)
        .values(paused=paused)
        .execution_options(synchronize_session="fetch")
    )
