"""Which ready steps a claim takes: each workspace in turn, so one workspace's long queue
does not hold back another's next step.

A claim first finds the workspaces with ready steps and how many each has (up to the
batch: a skip scan of the queue's index, a few probes per workspace, whatever the queue's
length). It deals the batch out like cards, one step per workspace at a time, starting
after the workspace this worker served last, and takes each workspace's share: its ready
steps of the highest run priority, oldest first, whose runs it locks, skipping those
another worker holds. Priority orders a workspace's own steps only: a workspace's
high-priority runs never hold back another workspace's turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from towpath.engine.sql import fetch
from towpath.storage.models import STEP_QUEUE

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.sql import Dialect, Gen

# Every query repeats the queue's condition as written, so both databases may use the
# partial index that holds exactly the queued rows, and orders by that index's key, so
# PostgreSQL's planner walks it and stops early rather than scan and sort. SQLite's
# planner, without statistics, prefers the (status, available_at) index and sorts the
# whole queue: it is told which index to use.
_IN_QUEUE = f"s.{STEP_QUEUE}"
_QUEUE_INDEX = "ix_step_runs_claim"
# The index's order after the workspace: a step copies its run's priority.
_ORDER = "s.priority DESC, s.available_at"

_READY_BY_WORKSPACE = f"""
WITH RECURSIVE spaces(id) AS (
    SELECT (SELECT s.workspace_id FROM {{queue}} WHERE {_IN_QUEUE}
            ORDER BY s.workspace_id, {_ORDER} LIMIT 1)
    UNION ALL
    SELECT (SELECT s.workspace_id FROM {{queue}} WHERE {_IN_QUEUE}
            AND s.workspace_id > spaces.id ORDER BY s.workspace_id, {_ORDER} LIMIT 1)
    FROM spaces WHERE spaces.id IS NOT NULL
)
SELECT id, (
    SELECT count(*) FROM (
        SELECT 1 FROM {{queue}}
        WHERE s.workspace_id = spaces.id AND {_IN_QUEUE} AND s.available_at <= ?
        ORDER BY {_ORDER} LIMIT ?
    ) ready
) FROM spaces WHERE id IS NOT NULL
"""
_READY_BY_WORKSPACE_POSTGRES = _READY_BY_WORKSPACE.format(queue="step_runs s")
_READY_BY_WORKSPACE_SQLITE = _READY_BY_WORKSPACE.format(
    queue=f"step_runs s INDEXED BY {_QUEUE_INDEX}"
)

# Each workspace's share of its first ready steps, in one statement; the runs are locked,
# and those another transaction holds are skipped for the next ones.
_OLDEST_READY_POSTGRES = f"""
SELECT c.run_id, c.id
FROM unnest(?::varchar[], ?::int[]) AS w(id, share)
CROSS JOIN LATERAL (
    SELECT s.run_id, s.id FROM step_runs s JOIN runs r ON r.id = s.run_id
    WHERE s.workspace_id = w.id AND {_IN_QUEUE} AND s.available_at <= ?
    ORDER BY {_ORDER} LIMIT w.share
    FOR UPDATE OF r SKIP LOCKED
) c
"""

# SQLite has one writer at a time, so nothing to lock, and a statement costs no round
# trip: one per workspace.
_OLDEST_READY_SQLITE = f"""
SELECT s.run_id, s.id FROM step_runs s INDEXED BY {_QUEUE_INDEX}
WHERE s.workspace_id = ? AND {_IN_QUEUE} AND s.available_at <= ?
ORDER BY {_ORDER} LIMIT ?
"""


@dataclass
class Turns:
    """Whose turn it is: a worker's claims start after the workspace it served last."""

    last: str | None = None

    def deal(self, ready: dict[str, int], limit: int) -> dict[str, int]:
        """Share `limit` steps among workspaces with `ready` steps each: one per
        workspace in turn, from the one after the last served, until the batch is full
        or nothing is left."""
        ordered = sorted(ready)
        if self.last is not None:
            ordered = [w for w in ordered if w > self.last] + [w for w in ordered if w <= self.last]
        shares = dict.fromkeys(ordered, 0)
        left = limit
        while left > 0:
            dealt = False
            for workspace in ordered:
                if left > 0 and shares[workspace] < ready[workspace]:
                    shares[workspace] += 1
                    left -= 1
                    dealt = True
                    self.last = workspace
            if not dealt:
                break
        return {workspace: n for workspace, n in shares.items() if n > 0}


def take_ready_steps(
    d: Dialect, now: datetime, limit: int, turns: Turns
) -> Gen[list[tuple[str, str]]]:
    """Up to `limit` ready steps, as (run id, step run id), each workspace in turn; on
    PostgreSQL their runs are locked until the transaction ends."""
    if limit <= 0:
        return []
    by_workspace = _READY_BY_WORKSPACE_POSTGRES if d.is_postgres else _READY_BY_WORKSPACE_SQLITE
    counted = yield from fetch(by_workspace, d.time(now), limit)
    shares = turns.deal({row[0]: int(row[1]) for row in counted if row[1]}, limit)
    if not shares:
        return []
    if d.is_postgres:
        rows = yield from fetch(
            _OLDEST_READY_POSTGRES, list(shares), list(shares.values()), d.time(now)
        )
        return [(row[0], row[1]) for row in rows]
    taken: list[tuple[str, str]] = []
    for workspace, share in shares.items():
        rows = yield from fetch(_OLDEST_READY_SQLITE, workspace, d.time(now), share)
        taken += [(row[0], row[1]) for row in rows]
    return taken
