"""Retention policies: how many days a workspace, or one workflow lineage, keeps finished runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from towpath.storage.models import RetentionPolicy, Workflow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# The `lineage_id` of a workspace's own policy: every lineage without one of its own.
WORKSPACE = ""


@dataclass(frozen=True)
class Policy:
    workspace_id: str
    # WORKSPACE, or the workflow lineage it keeps runs of.
    lineage_id: str
    days: int

    @property
    def scope(self) -> str:
        return "workspace" if self.lineage_id == WORKSPACE else "workflow"


async def policies(session: AsyncSession, workspace_id: str | None = None) -> list[Policy]:
    """Every policy (of one workspace), the workspace's own first."""
    stmt = select(RetentionPolicy).order_by(
        RetentionPolicy.workspace_id, RetentionPolicy.lineage_id
    )
    if workspace_id is not None:
        stmt = stmt.where(RetentionPolicy.workspace_id == workspace_id)
    rows = await session.scalars(stmt)
    return [Policy(r.workspace_id, r.lineage_id, r.finished_runs_days) for r in rows]


async def set_policy(
    session: AsyncSession, workspace_id: str, lineage_id: str, days: int | None, by: str
) -> Policy | None:
    """The policy after the change; None (the row deleted) clears it."""
    row = await session.get(RetentionPolicy, (workspace_id, lineage_id), with_for_update=True)
    if days is None:
        if row is not None:
            await session.delete(row)
            await session.flush()
        return None
    if row is None:
        row = RetentionPolicy(workspace_id=workspace_id, lineage_id=lineage_id)
        session.add(row)
    row.finished_runs_days = days
    row.updated_by = by
    await session.flush()
    return Policy(workspace_id, lineage_id, days)


async def lineage_names(session: AsyncSession, workspace_id: str) -> dict[str, str]:
    """Each lineage's name, as its newest version has it."""
    stmt = (
        select(Workflow.lineage_id, Workflow.name)
        .where(Workflow.workspace_id == workspace_id)
        .order_by(Workflow.version)
    )
    return {lineage: name for lineage, name in (await session.execute(stmt)).all()}
