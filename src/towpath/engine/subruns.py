"""sub_workflow: a step starts a child run and waits for it; the child's end answers it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.domain.errors import TowpathError
from towpath.domain.states import RUN_TERMINAL
from towpath.engine.lifecycle import start_run
from towpath.engine.sql import fetch
from towpath.engine.transition import RunTransaction

if TYPE_CHECKING:
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.rows import StepRow
    from towpath.engine.sql import Dialect, Gen
    from towpath.steps.execution import StartChild


def start_child(
    d: Dialect, rt: RunTransaction, row: StepRow, child: StartChild, workflows: WorkflowCache
) -> Gen[RunTransaction | None]:
    """Start the child run in the parent's transaction; a refusal fails the step."""
    try:
        # Every check comes before the first write, so a refusal leaves nothing behind.
        workflow = yield from workflows.get(d, child.workflow_id, rt.run.workspace_id)
        child_rt = yield from start_run(
            d,
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


def settle_parents(
    d: Dialect, transactions: list[RunTransaction], workflows: WorkflowCache
) -> Gen[list[RunTransaction]]:
    """Answer the waiting steps of parents whose child runs ended, up the tree."""
    answered: list[RunTransaction] = []
    pending = list(transactions)
    while pending:
        parent = yield from _settle_parent(d, pending.pop(), workflows)
        if parent is not None:
            answered.append(parent)
            pending.append(parent)
    return answered


def _settle_parent(
    d: Dialect, child: RunTransaction, workflows: WorkflowCache
) -> Gen[RunTransaction | None]:
    run = child.run
    if run.parent_run_id is None or run.parent_step_id is None or run.status not in RUN_TERMINAL:
        return None
    # Child first, then parent: the order every transition takes two run locks in.
    parent = yield from RunTransaction.open(d, run.parent_run_id)
    row = parent.step(run.parent_step_id)
    if row is None or row.status != "waiting" or (row.state or {}).get("child_run_id") != run.id:
        return None
    if run.status == "completed":
        output = child.outputs()
        parent.complete_step(row, {"run_id": run.id, "status": run.status, "output": output})
    else:
        reason = f": {run.error}" if run.error else ""
        row.error = f"sub-workflow run {run.id} {run.status}{reason}"
        parent.set_step_status(row, "failed", error=row.error)
    prepared = yield from workflows.get(d, parent.run.workflow_id)
    parent.advance(prepared.graph)
    yield from parent.flush()
    return parent


def active_children(d: Dialect, run_id: str) -> Gen[list[str]]:
    rows = yield from fetch(
        "SELECT id FROM runs WHERE parent_run_id = ?"
        " AND status IN ('pending', 'running', 'waiting')",
        run_id,
    )
    return [row[0] for row in rows]
