"""Deleting finished run trees with everything they hold: the SQL, in one place.

A run is deleted with the runs below it (its sub-runs, found through `parent_run_id`),
never alone: a tree is deleted whole or not at all, and only when every run of it has
finished. Finished runs are locked first (PostgreSQL), so that a retry cannot revive one
before the delete commits.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from towpath.engine.sql import execute, fetch

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from towpath.engine.sql import Dialect, Gen

FINISHED = "('completed', 'failed', 'cancelled')"
LIVE = "('pending', 'running', 'waiting', 'paused')"

# Candidate roots of one policy: finished before the cutoff, oldest first, with no live
# run below them (found by `root_run_id`; `lock_finished` catches runs older than it).
_ROOTS = (
    "SELECT r.id FROM runs r WHERE r.workspace_id = ? AND r.parent_run_id IS NULL"
    f" AND r.status IN {FINISHED} AND r.completed_at < ?"
    f" AND NOT EXISTS (SELECT 1 FROM runs l WHERE l.root_run_id = r.id AND l.status IN {LIVE})"
)
_LINEAGE_ROOTS = (
    f"{_ROOTS} AND r.workflow_id IN"
    " (SELECT w.id FROM workflows w WHERE w.workspace_id = ? AND w.lineage_id = ?)"
    " ORDER BY r.completed_at LIMIT ?"
)
# A lineage with a policy of its own is kept by that one, not by the workspace's.
_WORKSPACE_ROOTS = (
    f"{_ROOTS} AND r.workflow_id NOT IN"
    " (SELECT w.id FROM workflows w JOIN retention_policies p"
    " ON p.workspace_id = w.workspace_id AND p.lineage_id = w.lineage_id"
    " WHERE w.workspace_id = ?)"
    " ORDER BY r.completed_at LIMIT ?"
)


def old_roots(
    d: Dialect, workspace_id: str, lineage_id: str | None, before: datetime, limit: int
) -> Gen[list[str]]:
    """Runs started by no other run that finished before `before`, oldest first: of one
    lineage, or (`lineage_id` None) of every lineage without a policy of its own."""
    if lineage_id is None:
        rows = yield from fetch(_WORKSPACE_ROOTS, workspace_id, d.time(before), workspace_id, limit)
    else:
        rows = yield from fetch(
            _LINEAGE_ROOTS, workspace_id, d.time(before), workspace_id, lineage_id, limit
        )
    return [row[0] for row in rows]


def run_trees(d: Dialect, tops: Sequence[str]) -> Gen[dict[str, dict[str, str]]]:
    """Each given run's tree: its runs' ids (the run itself among them) and statuses."""
    rows = yield from fetch(
        "WITH RECURSIVE tree(top, id) AS ("
        f" SELECT id, id FROM runs WHERE {d.any_of('id')}"
        " UNION ALL SELECT tree.top, runs.id FROM runs JOIN tree ON runs.parent_run_id = tree.id"
        ") SELECT tree.top, tree.id, runs.status FROM tree JOIN runs ON runs.id = tree.id",
        d.ids(tops),
    )
    trees: dict[str, dict[str, str]] = defaultdict(dict)
    for top, run_id, status in rows:
        trees[top][run_id] = status
    return trees


def lock_finished(d: Dialect, run_ids: Sequence[str], *, skip_locked: bool) -> Gen[set[str]]:
    """Of the given runs, those finished, now locked; a run being changed meanwhile is
    waited for, or with `skip_locked` left out."""
    lock = d.lock("FOR UPDATE SKIP LOCKED" if skip_locked else "FOR UPDATE")
    rows = yield from fetch(
        f"SELECT id FROM runs WHERE {d.any_of('id')} AND status IN {FINISHED} {lock}",
        d.ids(run_ids),
    )
    return {row[0] for row in rows}


def delete_runs(d: Dialect, workspace_id: str, run_ids: Sequence[str]) -> Gen[int]:
    """Delete a workspace's runs and what hangs off them, explicitly: SQLite cascades only
    with its foreign-key pragma on. How many runs were deleted."""
    any_run = d.any_of("run_id")
    ids = d.ids(run_ids)
    # Outgoing deliveries are found through the workspace's subscriptions, by the index
    # that leads with the subscription (deleting a subscription deletes its deliveries).
    deliveries = (
        "SELECT id FROM subscription_deliveries WHERE subscription_id IN"
        f" (SELECT id FROM webhook_subscriptions WHERE workspace_id = ?) AND {any_run}"
    )
    # The run id an idempotency key's stored answer names.
    key_run = "k.response_body->>'id'" if d.is_postgres else "json_extract(k.response_body, '$.id')"
    for statement in (
        "DELETE FROM for_each_items WHERE step_run_id IN"
        f" (SELECT id FROM step_runs WHERE {any_run})",
        f"DELETE FROM step_runs WHERE {any_run}",
        f"DELETE FROM run_events WHERE {any_run}",
        f"DELETE FROM run_logs WHERE {any_run}",
        f"DELETE FROM queue_tasks WHERE {any_run}",
        # The key that started a run would answer with a run that is gone: it is freed.
        "DELETE FROM idempotency_keys WHERE id IN (SELECT k.id FROM idempotency_keys k"
        " JOIN runs r ON r.workspace_id = k.workspace_id AND r.created_by = k.principal"
        f" AND r.idempotency_key = k.key WHERE {d.any_of('r.id')} AND {key_run} = r.id)",
        # A tick whose run is gone is settled with how the run ended.
        "UPDATE schedule_fires SET in_flight = FALSE, run_status ="
        " (SELECT status FROM runs WHERE runs.id = schedule_fires.run_id)"
        f" WHERE in_flight = TRUE AND {any_run}",
    ):
        yield from execute(statement, ids)
    yield from execute(
        f"DELETE FROM delivery_attempts WHERE delivery_id IN ({deliveries})", workspace_id, ids
    )
    yield from execute(
        f"DELETE FROM subscription_deliveries WHERE id IN ({deliveries})", workspace_id, ids
    )
    return (yield from execute(f"DELETE FROM runs WHERE {d.any_of('id')}", ids))
