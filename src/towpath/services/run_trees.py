"""Cancelling a run tree: a run and every run below it, waited for or not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from towpath.domain.states import RUN_TERMINAL
from towpath.engine.lifecycle import cancel_run
from towpath.engine.results import Applied
from towpath.engine.run_io import open_run
from towpath.engine.subruns import cancel_children, cancel_descendants, ended_runs
from towpath.services.audit import Change, RunAction, record_in_transition

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import RunRow


@dataclass(frozen=True)
class TreeCancelled:
    """The run a tree cancel was asked for, as it now is, and every run it cancelled."""

    run: RunRow
    context: dict[str, Any]
    cancelled: list[RunRow]


async def cancel_tree(
    runtime: Runtime, caller: Principal, run_id: str, reason: str | None
) -> TreeCancelled:
    """Cancel the run, then every live run below it, level by level. A run that already
    ended stays as it ended, and the live runs it started are cancelled all the same: a
    runaway whose root completed long ago is stopped this way. Each run's cancel is
    audited in its own transition, and the whole request once more."""
    d = runtime.driver.dialect
    details: dict[str, Any] = {"reason": reason, "tree": True}
    action = RunAction(caller, "run.cancel", details)
    continuation = runtime.continuation()

    def cancel_top() -> Gen[tuple[RunTransaction, Applied, str]]:
        rt = yield from open_run(d, run_id, caller.workspace_id)
        before = rt.run.status
        if before in RUN_TERMINAL:
            return rt, Applied(), before
        cancel_run(rt, reason)
        # Its parent, if a step of the parent waits for it, hears of it here.
        applied = yield from runtime.carry_on([rt], continuation)
        yield from action.record(rt, before)
        return rt, applied, before

    rt, applied, before = await runtime.driver.run(cancel_top)
    runtime.committed(applied)
    cancelled = [] if before in RUN_TERMINAL else [rt.run]
    # A parent that failed with the run leaves no other child working for it.
    ended = {k: v for k, v in ended_runs(applied.changed).items() if k != run_id}
    if ended:
        runtime.announce(await cancel_children(runtime.driver, ended))

    def audit_below(child: RunTransaction, status: str) -> Gen[None]:
        parent = {"parent_run_id": child.run.parent_run_id, "tree_root_run_id": run_id}
        yield from replace(action, details={**details, **parent}).record(child, status)

    why = f"run {run_id} was cancelled with the runs it started"
    why += f": {reason}" if reason else ""
    below = await cancel_descendants(runtime.driver, run_id, caller.workspace_id, why, audit_below)
    runtime.announce(below)
    cancelled += [child.run for child in below]
    summary = Change(
        "run.cancel_tree",
        "run",
        run_id,
        {"status": before},
        {"status": rt.run.status, "cancelled": len(cancelled), "reason": reason},
    )
    await runtime.driver.run(partial(record_in_transition, d, caller, summary, action.origin))
    return TreeCancelled(rt.run, rt.outputs(), cancelled)
