"""Retention: how long finished runs are kept (per workspace, or per workflow lineage, which
wins), and the pruning of the runs past it, a small batch per transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from towpath.auth.principal import Principal
from towpath.engine.pruning import delete_runs, lock_finished, old_roots, run_trees
from towpath.engine.sql import fetch
from towpath.services.audit import Change, Origin, record, record_in_transition
from towpath.storage import retention as queries
from towpath.storage import workflows as workflow_queries
from towpath.storage.retention import WORKSPACE, Policy

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.storage.database import Database

# Held for one batch's transaction: one process prunes at a time (PostgreSQL; SQLite has
# one writer anyway). Any fixed number, apart from the other advisory locks' keys.
PRUNE_LOCK = 7_106_114_101


@dataclass(frozen=True)
class ShownPolicy:
    """A policy as the API shows it."""

    scope: str
    finished_runs_days: int | None
    workflow_id: str | None = None
    name: str | None = None


async def list_policies(db: Database, caller: Principal) -> list[ShownPolicy]:
    """The workspace's own policy (days None: runs are kept for ever), then each workflow
    lineage's."""
    async with db.read() as session:
        found = await queries.policies(session, caller.workspace_id)
        names = await queries.lineage_names(session, caller.workspace_id)
    own = next((p.days for p in found if p.scope == "workspace"), None)
    shown = [ShownPolicy("workspace", own)]
    for policy in found:
        if policy.scope == "workflow":
            lineage = policy.lineage_id
            shown.append(ShownPolicy("workflow", policy.days, lineage, names.get(lineage)))
    return shown


async def set_workspace_policy(db: Database, caller: Principal, days: int | None) -> ShownPolicy:
    async with db.transaction() as session:
        await _set(session, caller, WORKSPACE, days)
    return ShownPolicy("workspace", days)


async def set_workflow_policy(
    db: Database, caller: Principal, workflow_id: str, days: int | None
) -> ShownPolicy:
    """Keep the finished runs of every version of a workflow `days` days (None: as the
    workspace's policy says)."""
    async with db.transaction() as session:
        workflow = await workflow_queries.get_workflow(session, caller.workspace_id, workflow_id)
        await _set(session, caller, workflow.lineage_id, days)
    return ShownPolicy("workflow", days, workflow.lineage_id, workflow.name)


async def _set(session: AsyncSession, caller: Principal, lineage_id: str, days: int | None) -> None:
    found = await queries.policies(session, caller.workspace_id)
    was = next((p.days for p in found if p.lineage_id == lineage_id), None)
    await queries.set_policy(session, caller.workspace_id, lineage_id, days, caller.subject)
    resource = "workspace" if lineage_id == WORKSPACE else lineage_id
    before = {"finished_runs_days": was}
    after = {"finished_runs_days": days}
    await record(
        session, caller, Change("retention.set", "retention_policy", resource, before, after)
    )


@dataclass(frozen=True)
class Batch:
    """What one prune transaction did: how many runs it deleted, and whether the policy
    may have more to delete (a full batch)."""

    deleted: int
    full: bool


async def every_policy(db: Database) -> list[Policy]:
    async with db.read() as session:
        return await queries.policies(session)


async def prune_batch(runtime: Runtime, policy: Policy, now: datetime, size: int) -> Batch:
    """Delete up to about `size` finished runs the policy no longer keeps, oldest first, as
    whole trees (a tree with a run in flight is left alone); one audit entry says how many.
    Nothing is deleted while another process holds the prune lock."""
    d = runtime.driver.dialect
    cutoff = now - timedelta(days=policy.days)
    origin = Origin()
    system = Principal("system:retention", policy.workspace_id, "admin", kind="system")

    def transition() -> Gen[Batch]:
        if d.is_postgres:
            held = yield from fetch("SELECT pg_try_advisory_xact_lock(?)", PRUNE_LOCK)
            if not held[0][0]:
                return Batch(0, full=False)
        lineage = None if policy.scope == "workspace" else policy.lineage_id
        roots = yield from old_roots(d, policy.workspace_id, lineage, cutoff, size)
        if not roots:
            return Batch(0, full=False)
        trees = yield from run_trees(d, roots)
        locked = yield from lock_finished(
            d, [i for members in trees.values() for i in members], skip_locked=True
        )
        chosen: list[str] = []
        for root in roots:
            members = trees.get(root, {})
            if members and set(members) <= locked:
                chosen.extend(members)
            if len(chosen) >= size:
                break
        if chosen:
            yield from delete_runs(d, policy.workspace_id, chosen)
            after = {
                "runs_deleted": len(chosen),
                "policy": {"scope": policy.scope, "finished_runs_days": policy.days},
                "completed_before": cutoff.isoformat(),
            }
            resource = policy.scope if policy.scope == "workspace" else policy.lineage_id
            change = Change("run.prune", "retention_policy", resource, None, after)
            yield from record_in_transition(d, system, change, origin)
        return Batch(len(chosen), full=bool(chosen) and len(roots) >= size)

    return await runtime.driver.run(transition)
