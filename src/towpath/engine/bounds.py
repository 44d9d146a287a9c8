"""Bounds on what one workspace makes the engine do, checked before a run starts.

Counts are read in the start's own transaction, from indexes, and never past the limit
(a count stops at the limit), so a check costs the same whatever the backlog. On SQLite
one writer starts runs one at a time: the bounds are exact. On PostgreSQL two starts
that commit at the same moment may each see room for one more: a bound may be passed by
at most the number of start transactions in flight at once, never more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.domain.errors import RateLimited, Unprocessable
from towpath.engine.archive import refuse_archived
from towpath.engine.sql import fetch

if TYPE_CHECKING:
    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.settings import RunLimits
    from towpath.engine.sql import Dialect, Gen
    from towpath.storage.rows import RunRow

# A start refused for runs in flight is worth trying again once some of them ended.
IN_FLIGHT_RETRY_SECONDS = 5


class RunsInFlightLimit(RateLimited):
    code = "RUNS_IN_FLIGHT_LIMIT"

    def __init__(self, scope: str, limit: int, count: int, setting: str) -> None:
        super().__init__(IN_FLIGHT_RETRY_SECONDS, scope)
        self.message = (
            f"this {scope} has {count} runs pending, running or waiting, its limit"
            f" ({setting}); retry after {self.retry_after} s, once some have ended"
        )
        self.args = (self.message,)
        self.details = {
            "limit": f"runs_in_flight_per_{scope}",
            "max": limit,
            "count": count,
            "retry_after_seconds": self.retry_after,
        }


class SubWorkflowTooDeep(Unprocessable):
    code = "SUB_WORKFLOW_DEPTH_LIMIT"

    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(
            f"the child run would be {depth} levels below its root run; at most {limit}"
            " are allowed (TOWPATH_MAX_SUB_WORKFLOW_DEPTH)",
            details={"limit": "sub_workflow_depth", "max": limit, "depth": depth},
        )


class RunTreeLimit(Unprocessable):
    code = "RUN_TREE_LIMIT"

    def __init__(self, root_run_id: str, limit: int) -> None:
        super().__init__(
            f"run tree {root_run_id} has started {limit} runs, its limit"
            " (TOWPATH_MAX_RUNS_PER_TREE); it starts no more",
            details={"limit": "runs_per_tree", "max": limit, "root_run_id": root_run_id},
        )


def _capped(where: str) -> str:
    return f"(SELECT count(*) FROM (SELECT 1 FROM runs WHERE {where} LIMIT ?) AS counted)"


_IN_FLIGHT = "status IN ('pending', 'running', 'waiting', 'paused')"
# One statement, one round trip: the workflow's paused flag and the three counts.
_ADMISSION = (
    "SELECT w.paused, w.archived_at,"
    f" {_capped(f'workspace_id = ? AND {_IN_FLIGHT}')},"
    f" {_capped(f'workspace_id = ? AND {_IN_FLIGHT} AND workflow_id IN (SELECT id FROM workflows WHERE lineage_id = ?)')},"  # noqa: E501
    f" {_capped('root_run_id = ?')}"
    " FROM workflows w WHERE w.id = ?"
)


def admit_run(
    d: Dialect, workflow: PreparedWorkflow, limits: RunLimits, parent: RunRow | None
) -> Gen[bool]:
    """Refuse a start that would pass a bound, saying which; the start then writes
    nothing. `parent` is the run whose step starts this one, if any. True when the
    workflow is paused: the run is taken, and waits for the unpause (`engine.admission`)."""
    if parent is not None:
        depth = parent.depth + 1
        if depth > limits.sub_workflow_depth:
            raise SubWorkflowTooDeep(depth, limits.sub_workflow_depth)
    root = (parent.root_run_id or parent.id) if parent is not None else ""
    rows = yield from fetch(
        _ADMISSION,
        workflow.workspace_id,
        limits.in_flight_per_workspace,
        workflow.workspace_id,
        workflow.lineage_id,
        limits.in_flight_per_workflow,
        root,
        limits.runs_per_tree,
        workflow.workflow_id,
    )
    paused, archived_at, in_workspace, in_workflow, in_tree = rows[0]
    refuse_archived(d, workflow, archived_at)
    if in_workspace >= limits.in_flight_per_workspace:
        raise RunsInFlightLimit(
            "workspace",
            limits.in_flight_per_workspace,
            in_workspace,
            "TOWPATH_MAX_RUNS_IN_FLIGHT_PER_WORKSPACE",
        )
    if in_workflow >= limits.in_flight_per_workflow:
        raise RunsInFlightLimit(
            "workflow",
            limits.in_flight_per_workflow,
            in_workflow,
            "TOWPATH_MAX_RUNS_IN_FLIGHT_PER_WORKFLOW",
        )
    if parent is not None and in_tree >= limits.runs_per_tree:
        raise RunTreeLimit(root, limits.runs_per_tree)
    return bool(paused)
