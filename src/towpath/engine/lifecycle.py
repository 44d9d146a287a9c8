"""Starting, cancelling and retrying runs, each inside the caller's transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from referencing.exceptions import Unresolvable

from towpath.domain.clock import utcnow
from towpath.domain.errors import Conflict, Unprocessable, WorkflowNotPublished
from towpath.domain.ids import new_id
from towpath.domain.states import EventType, RunStatus, StepStatus
from towpath.engine.bounds import admit_run
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.run_io import flush_run
from towpath.engine.transition import RunTransaction
from towpath.storage.rows import RunRow

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.settings import RunLimits
    from towpath.engine.sql import Dialect, Gen


class InputInvalid(Unprocessable):
    code = "INPUT_INVALID"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(
            f"the run input breaks the workflow's input_schema ({len(errors)} error(s))",
            details={"errors": errors},
        )


class RunStateConflict(Conflict):
    code = "INVALID_RUN_STATE"

    def __init__(self, run: RunRow, wanted: str) -> None:
        super().__init__(
            f"run {run.id!r} is {run.status}; it cannot be {wanted}",
            details={"id": run.id, "status": run.status},
        )


def check_input(validator: Validator | None, value: dict[str, Any]) -> None:
    if validator is None:
        return
    try:
        found = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    except Unresolvable as exc:
        # A schema published before references were checked may point nowhere.
        raise InputInvalid(
            [{"path": "/", "message": f"the input_schema cannot be checked: {exc}"}]
        ) from exc
    errors = [
        {"path": "/" + "/".join(str(p) for p in error.absolute_path), "message": error.message}
        for error in found
    ]
    if errors:
        raise InputInvalid(errors)


def start_run(
    d: Dialect,
    workflow: PreparedWorkflow,
    run_input: dict[str, Any],
    limits: RunLimits,
    *,
    trigger_type: str = "manual",
    trigger_id: str | None = None,
    idempotency_key: str | None = None,
    created_by: str | None = None,
    parent: RunRow | None = None,
    parent_step_id: str | None = None,
    write: bool = True,
) -> Gen[RunTransaction]:
    """A new run, started: its first steps queued. Written at once unless `write` is
    False: then the caller writes it, with whatever it carries on with.

    `parent` is the run whose step starts this one, and `parent_step_id` that step when
    it waits for the run: a run started without waiting still belongs to its parent's
    tree, so the tree's bounds count it and cancelling the tree reaches it."""
    if workflow.status != "published":
        raise WorkflowNotPublished(workflow.workflow_id, workflow.status)
    check_input(workflow.input_validator, run_input)
    yield from admit_run(d, workflow, limits, parent)
    now = utcnow()
    timeout = workflow.timeout_seconds
    run_id = new_id()
    run = RunRow(
        id=run_id,
        workspace_id=workflow.workspace_id,
        workflow_id=workflow.workflow_id,
        status=RunStatus.PENDING,
        trigger_type=trigger_type,
        input=run_input,
        context={},
        error=None,
        idempotency_key=idempotency_key,
        parent_run_id=parent.id if parent else None,
        parent_step_id=parent_step_id if parent else None,
        last_seq=0,
        deadline_at=now + timedelta(seconds=timeout) if timeout is not None else None,
        created_by=created_by,
        started_at=None,
        completed_at=None,
        created_at=now,
        updated_at=now,
        root_run_id=(parent.root_run_id or parent.id) if parent else run_id,
        depth=parent.depth + 1 if parent else 0,
        trigger_id=trigger_id,
        lineage_id=workflow.lineage_id,
    )
    rt = RunTransaction.create(d, run)
    rt.emit(EventType.RUN_CREATED, trigger_type=trigger_type, workflow_id=workflow.workflow_id)
    rt.set_run_status(RunStatus.RUNNING, event=EventType.RUN_STARTED)
    rt.advance(workflow.graph)
    if write:
        yield from flush_run(rt)
    return rt


def cancel_run(rt: RunTransaction, reason: str | None = None) -> None:
    if rt.run.status not in (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING):
        raise RunStateConflict(rt.run, RunStatus.CANCELLED)
    rt.cancel_active_steps()
    rt.set_run_status(RunStatus.CANCELLED, error=reason)


def retry_run(rt: RunTransaction, prepared: PreparedWorkflow) -> None:
    """The failed steps run again; completed ones keep their output."""
    if rt.run.status != RunStatus.FAILED:
        raise RunStateConflict(rt.run, "retried")
    rt.run.error = None
    rt.run.completed_at = None
    if prepared.timeout_seconds is not None:
        # A retried run has its whole time again, from now.
        rt.run.deadline_at = rt.now + timedelta(seconds=prepared.timeout_seconds)
    rt.set_run_status(RunStatus.RUNNING, event=EventType.RUN_RETRIED)
    retried = {
        row.step_id
        for row in rt.steps.values()
        if row.item_index == WHOLE_STEP and row.status in (StepStatus.FAILED, StepStatus.CANCELLED)
    }
    for row in list(rt.steps.values()):
        if row.item_index != WHOLE_STEP:
            # A for_each that runs again starts its items over; their runs stay in events.
            if row.step_id in retried:
                rt.remove_step(row)
            continue
        if row.status in (StepStatus.FAILED, StepStatus.CANCELLED):
            # The earlier attempts stay in `attempts`; the step starts over.
            row.error = None
            row.output = None
            row.handle = None
            # What the step kept (a timer's due time, a child run, a request) is of the
            # attempt that failed: a delay waits its whole time again.
            row.state = None
            row.completed_at = None
            row.available_at = rt.now
            rt.set_step_status(row, StepStatus.RETRYING, attempt=row.attempt)
    rt.advance(prepared.graph)
