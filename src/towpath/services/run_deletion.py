"""Deleting finished runs: a run goes with the runs it started and everything they hold
(steps, events, logs, queue tasks, outgoing deliveries, the idempotency key that started
it); the audit entry saying so stays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.errors import Conflict
from towpath.engine.pruning import delete_runs, lock_finished, run_trees
from towpath.engine.sql import fetch
from towpath.services.audit import Change, Origin, record_in_transition
from towpath.storage.runs import RunNotFound

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Dialect, Gen

# How many of a deleted tree's run ids its audit entry names.
AUDITED_IDS = 100


_RUN = (
    "SELECT status, workflow_id, parent_run_id, created_at, completed_at FROM runs"
    " WHERE id = ? AND workspace_id = ?"
)


class RunNotDeletable(Conflict):
    code = "INVALID_RUN_STATE"

    def __init__(self, run_id: str, status: str, live: list[str]) -> None:
        super().__init__(
            f"run {run_id!r} is {status} or has runs below it still in flight; only a"
            " finished run (completed, failed or cancelled) whose sub-runs all ended can be"
            " deleted",
            details={"id": run_id, "status": status, "live_run_ids": live[:AUDITED_IDS]},
        )


async def delete_run(runtime: Runtime, caller: Principal, run_id: str) -> None:
    """Delete a finished run with the runs below it; refused, changing nothing, while any
    of them is in flight."""
    d = runtime.driver.dialect
    origin = Origin()

    def transition() -> Gen[None]:
        found = yield from fetch(_RUN, run_id, caller.workspace_id)
        if not found:
            raise RunNotFound(run_id)
        status, workflow_id, parent_run_id, created_at, completed_at = found[0]
        members = (yield from run_trees(d, [run_id]))[run_id]
        locked = yield from lock_finished(d, list(members), skip_locked=False)
        if locked != set(members):
            # As it is now: a delete or retry that committed meanwhile was waited for.
            now = yield from fetch(_RUN, run_id, caller.workspace_id)
            if not now:
                raise RunNotFound(run_id)
            live = sorted(set(members) - locked - {run_id})
            raise RunNotDeletable(run_id, now[0][0], live)
        yield from delete_runs(d, caller.workspace_id, list(members))
        below = sorted(set(members) - {run_id})
        before: dict[str, Any] = {
            "status": status,
            "workflow_id": workflow_id,
            "parent_run_id": parent_run_id,
            "created_at": _moment(d, created_at),
            "completed_at": _moment(d, completed_at),
        }
        after = {"runs_deleted": len(members), "child_run_ids": below[:AUDITED_IDS]}
        change = Change("run.delete", "run", run_id, before, after)
        yield from record_in_transition(d, caller, change, origin)

    await runtime.driver.run(transition)


def _moment(d: Dialect, value: Any) -> str | None:
    moment = d.read_time(value)
    return moment.isoformat() if moment is not None else None
