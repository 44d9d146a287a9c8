"""Pausing and unpausing one run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.engine.pausing import pause_run, unpause_run
from towpath.services.audit import RunAction

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import RunRow


async def pause(
    runtime: Runtime, caller: Principal, run_id: str, reason: str | None
) -> tuple[RunRow, dict[str, Any]]:
    def change(rt: RunTransaction, _: PreparedWorkflow) -> None:
        pause_run(rt, caller.subject, reason)

    action = RunAction(caller, "run.pause", {"reason": reason})
    rt = await runtime.change_run(run_id, caller.workspace_id, change, action)
    # Answered from what the transition left, not another query (or race).
    return rt.run, rt.outputs()


async def unpause(
    runtime: Runtime, caller: Principal, run_id: str
) -> tuple[RunRow, dict[str, Any]]:
    def change(rt: RunTransaction, prepared: PreparedWorkflow) -> Gen[None]:
        return unpause_run(rt, prepared.graph, caller.subject)

    action = RunAction(caller, "run.unpause")
    rt = await runtime.change_run(run_id, caller.workspace_id, change, action)
    return rt.run, rt.outputs()
