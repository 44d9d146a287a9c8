"""Starting, cancelling and retrying runs, each inside the caller's transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from referencing.exceptions import Unresolvable

from towpath.domain.clock import utcnow
from towpath.domain.errors import Conflict, Unprocessable, WorkflowNotPublished
from towpath.domain.ids import new_id
from towpath.domain.states import RUN_LIVE, EventType, RunStatus, StepStatus
from towpath.engine.admission import admit_new_run, admit_retry, concurrency_key
from towpath.engine.bounds import admit_run
from towpath.engine.retry_io import write_retried_run
from towpath.engine.retry_plan import RetryPlan, RetryRequest, plan_retry
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.run_io import flush_run, flush_runs, open_runs
from towpath.engine.transition import RunTransaction
from towpath.storage.rows import RunRow

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from towpath.engine.graphs import PreparedWorkflow, WorkflowCache
    from towpath.engine.settings import RunLimits
    from towpath.engine.sql import Dialect, Gen
    from towpath.storage.rows import StepRow


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

    A run of a paused or flow-controlled workflow may instead be left pending, waiting
    for its turn with the reason, or be cancelled (`engine.admission`).

    `parent` is the run whose step starts this one, and `parent_step_id` that step when
    it waits for the run: a run started without waiting still belongs to its parent's
    tree, so the tree's bounds count it and cancelling the tree reaches it."""
    if workflow.status != "published":
        raise WorkflowNotPublished(workflow.workflow_id, workflow.status)
    check_input(workflow.input_validator, run_input)
    paused = yield from admit_run(d, workflow, limits, parent)
    flow = workflow.flow
    key = concurrency_key(flow, run_input)
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
        priority=flow.priority,
        concurrency_key=key,
    )
    rt = RunTransaction.create(d, run)
    rt.emit(EventType.RUN_CREATED, trigger_type=trigger_type, workflow_id=workflow.workflow_id)
    if not (paused or flow.limited) or (
        yield from admit_new_run(
            d, rt, workflow, paused, open_runs, flush_runs, child=parent is not None
        )
    ):
        rt.set_run_status(RunStatus.RUNNING, event=EventType.RUN_STARTED)
        rt.advance(workflow.graph)
    if write:
        yield from flush_run(rt)
    return rt


def cancel_run(rt: RunTransaction, reason: str | None = None) -> None:
    if rt.run.status not in RUN_LIVE:
        raise RunStateConflict(rt.run, RunStatus.CANCELLED)
    rt.cancel_active_steps()
    rt.set_run_status(RunStatus.CANCELLED, error=reason)


# What a run is in when a retry may take it: a plain retry takes only a failed run.
_RETRYABLE = (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.COMPLETED)


def retry_target(
    d: Dialect, workflows: WorkflowCache, run: RunRow, prepared: PreparedWorkflow, to_latest: bool
) -> Gen[PreparedWorkflow]:
    """The version a retry runs on: the run's own, or with `to_latest` the newest published
    version of its lineage (the run's own when none is newer: not an error)."""
    if not to_latest:
        return prepared
    return (yield from workflows.latest(d, run.workflow_id, run.workspace_id))


def retry_plan(
    rt: RunTransaction,
    prepared: PreparedWorkflow,
    target: PreparedWorkflow,
    request: RetryRequest,
) -> RetryPlan:
    """What `retry_run` would do, checked as it checks it, changing nothing: the run
    retried on `target` (its own version, or a newer one of its lineage)."""
    allowed = (RunStatus.FAILED,) if request.from_step is None else _RETRYABLE
    if rt.run.status not in allowed:
        raise RunStateConflict(rt.run, "retried")
    ended = {
        row.step_id: (row.status, row.step_type)
        for row in rt.steps.values()
        if row.item_index == WHOLE_STEP
    }
    changed = {
        node_id
        for node_id, step_type in target.graph.step_types.items()
        if prepared.graph.step_types.get(node_id) != step_type
    }
    details = {"id": rt.run.id, "status": rt.run.status, "workflow_id": target.workflow_id}
    plan = plan_retry(target.graph, ended, request, changed, details)
    if request.run_input is not None or target is not prepared:
        run_input = rt.run.input if request.run_input is None else request.run_input
        try:
            check_input(target.input_validator, run_input)
        except InputInvalid as exc:
            exc.details.update(details)
            raise
    return plan


def retry_run(
    rt: RunTransaction,
    prepared: PreparedWorkflow,
    limits: RunLimits,
    target: PreparedWorkflow | None = None,
    request: RetryRequest | None = None,
) -> Gen[RetryPlan]:
    """The failed steps run again, and with `request.from_step` that step and everything
    downstream of it too; the other steps keep their output. The run is in flight again,
    so it is held to a start's bounds: runs in flight, an archived version."""
    request = request or RetryRequest()
    target = target or prepared
    plan = retry_plan(rt, prepared, target, request)
    yield from admit_run(rt.d, target, limits, None)
    yield from admit_retry(rt, target)
    again = set(plan.run_again)
    previous = rt.run.workflow_id
    rt.run.error = None
    rt.run.completed_at = None
    if target.timeout_seconds is not None:
        # A retried run has its whole time again, from now.
        rt.run.deadline_at = rt.now + timedelta(seconds=target.timeout_seconds)
    rt.set_run_status(RunStatus.RUNNING, event=EventType.RUN_RETRIED)
    retried = rt.events[-1].data
    retried["run_again"] = plan.run_again
    if not request.plain:
        retried.update(from_step=request.from_step, keep=plan.keep, workflow_id=target.workflow_id)
    if request.to_latest:
        retried["previous_workflow_id"] = previous
    if plan.dropped:
        retried["dropped"] = plan.dropped
    if request.overrides():
        retried["input_overrides"] = request.overrides()
    for row in list(rt.steps.values()):
        if row.step_id in plan.dropped or (row.item_index != WHOLE_STEP and row.step_id in again):
            # A for_each that runs again starts its items over; their runs stay in events,
            # as do the steps of a node the newer version does not have.
            rt.remove_step(row)
        elif row.step_id in again:
            _set_back(rt, row, target, plain=request.plain)
    yield from write_retried_run(rt, target, request)
    rt.advance(target.graph)
    return plan


def _set_back(rt: RunTransaction, row: StepRow, target: PreparedWorkflow, *, plain: bool) -> None:
    """The step starts over; its earlier attempts stay in `attempts`."""
    row.error = None
    row.output = None
    row.handle = None
    # What the step kept (a timer's due time, a child run, a request) is of the attempt
    # that failed: a delay waits its whole time again.
    row.state = None
    row.completed_at = None
    row.available_at = rt.now
    row.step_type = target.graph.step_types[row.step_id]
    if plain:
        rt.set_step_status(row, StepStatus.RETRYING, attempt=row.attempt)
    else:
        # It runs again once what it waits for has ended again (`RunTransaction.advance`).
        rt.set_step_status(row, StepStatus.PENDING)
