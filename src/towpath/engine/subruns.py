"""sub_workflow: a step starts a child run and waits for it; the child's end answers it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.domain.errors import TowpathError
from towpath.domain.states import RUN_TERMINAL
from towpath.engine.lifecycle import start_run
from towpath.engine.transition import RunTransaction
from towpath.storage.runs import outputs
from towpath.storage.workflows import get_workflow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.engine.graphs import WorkflowCache
    from towpath.steps.execution import StartChild
    from towpath.storage.models import StepRun


async def start_child(
    rt: RunTransaction, row: StepRun, child: StartChild, workflows: WorkflowCache
) -> RunTransaction | None:
    """Start the child run in the parent's transaction; a refusal fails the step."""
    try:
        async with rt.session.begin_nested():
            workflow = await get_workflow(rt.session, rt.run.workspace_id, child.workflow_id)
            child_rt = await start_run(
                rt.session,
                workflows,
                workflow,
                child.input,
                trigger_type="sub_workflow",
                created_by=f"run:{rt.run.id}",
                parent=(rt.run.id, row.step_id) if child.wait else None,
            )
    except TowpathError as exc:
        row.error = f"could not start workflow {child.workflow_id!r}: {exc.message}"
        rt.set_step_status(row, "failed", error=row.error)
        return None
    if child.wait:
        row.state = {"child_run_id": child_rt.run.id}
        row.available_at = None  # it waits for the child, with no deadline of its own
        rt.set_step_status(row, "waiting", child_run_id=child_rt.run.id)
    else:
        rt.complete_step(row, {"run_id": child_rt.run.id, "status": child_rt.run.status})
    return child_rt


async def settle_parent(
    session: AsyncSession, child: RunTransaction, workflows: WorkflowCache
) -> RunTransaction | None:
    """When a child run has ended, answer the parent's waiting step (child, then parent lock)."""
    run = child.run
    if run.parent_run_id is None or run.parent_step_id is None or run.status not in RUN_TERMINAL:
        return None
    parent = await RunTransaction.open(session, run.parent_run_id)
    row = parent.step(run.parent_step_id)
    if row is None or row.status != "waiting" or (row.state or {}).get("child_run_id") != run.id:
        return None
    if run.status == "completed":
        result = {"run_id": run.id, "status": run.status, "output": await outputs(session, run.id)}
        parent.complete_step(row, result)
    else:
        row.error = f"sub-workflow run {run.id} {run.status}" + (
            f": {run.error}" if run.error else ""
        )
        parent.set_step_status(row, "failed", error=row.error)
    prepared = await workflows.get(session, parent.run.workflow_id)
    parent.advance(prepared.graph)
    return parent
