"""sub_workflow: a step starts a child run and waits for it; the child's end answers it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from towpath.domain.errors import TowpathError
from towpath.domain.states import RUN_LIVE, RUN_TERMINAL, EventType, RunStatus, StepStatus
from towpath.engine.fan_out import item_settled, kept_state
from towpath.engine.lifecycle import cancel_run, start_run
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.run_io import flush_run, open_run
from towpath.engine.sql import fetch

if TYPE_CHECKING:
    from collections.abc import Callable

    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction
    from towpath.steps.execution import StartChild
    from towpath.storage.rows import StepRow


def start_child(
    d: Dialect, rt: RunTransaction, row: StepRow, child: StartChild, workflows: WorkflowCache
) -> Gen[RunTransaction | None]:
    """Start the child run in the parent's transaction; a refusal fails the step."""
    if rt.run_is_new:
        # A child names its parent: a run starting a child in its own start is written
        # first.
        yield from flush_run(rt)
    try:
        # Every check comes before the first write, so a refusal leaves nothing behind.
        workflow = yield from workflows.get(d, child.workflow_id, rt.run.workspace_id)
        child_rt = yield from start_run(
            d,
            workflow,
            child.input,
            workflows.limits,
            trigger_type="sub_workflow",
            # Whoever started the tree started this run too: an approval's rule against
            # self-approval holds in a sub-workflow as it does in the run itself.
            created_by=rt.run.created_by or f"run:{rt.run.id}",
            parent=rt.run,
            parent_step_id=row.step_id if child.wait else None,
        )
    except TowpathError as exc:
        row.error = f"could not start workflow {child.workflow_id!r}: {exc.message}"
        rt.set_step_status(row, StepStatus.FAILED, error=row.error)
        return None
    if child.wait:
        row.state = {**kept_state(row), "child_run_id": child_rt.run.id}
        row.available_at = None  # it waits for the child, with no deadline of its own
        rt.set_step_status(row, StepStatus.WAITING, child_run_id=child_rt.run.id)
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
    parent = yield from open_run(d, run.parent_run_id)
    # The step, or the for_each item, that started this child and waits for it.
    row = next(
        (
            r
            for r in parent.steps.values()
            if r.step_id == run.parent_step_id
            and r.status == StepStatus.WAITING
            and isinstance(r.state, dict)
            and r.state.get("child_run_id") == run.id
        ),
        None,
    )
    if row is None:
        return None
    if run.status == RunStatus.COMPLETED:
        output = child.outputs()
        parent.complete_step(row, {"run_id": run.id, "status": run.status, "output": output})
    else:
        reason = f": {run.error}" if run.error else ""
        row.error = f"sub-workflow run {run.id} {run.status}{reason}"
        parent.set_step_status(row, StepStatus.FAILED, error=row.error)
    if row.item_index != WHOLE_STEP:
        yield from item_settled(parent, row)
    prepared = yield from workflows.get(d, parent.run.workflow_id)
    parent.advance(prepared.graph)
    yield from flush_run(parent)
    return parent


def ended_runs(transactions: list[RunTransaction]) -> dict[str, str]:
    """The runs these transitions failed or cancelled, with how they ended in words."""
    return {
        rt.run.id: "failed" if rt.run.status == RunStatus.FAILED else "was cancelled"
        for rt in transactions
        if rt.run.status in (RunStatus.FAILED, RunStatus.CANCELLED)
        and any(
            event.event_type in (EventType.RUN_FAILED, EventType.RUN_CANCELLED)
            for event in rt.events
        )
    }


def active_children(d: Dialect, run_ids: list[str]) -> Gen[list[tuple[str, str]]]:
    """(child, parent) for every child run of these runs that has not ended and that a
    step of its parent waits for (a run started without waiting goes its own way)."""
    rows = yield from fetch(
        f"SELECT id, parent_run_id FROM runs WHERE {d.any_of('parent_run_id')}"
        " AND parent_step_id IS NOT NULL"
        " AND status IN ('pending', 'running', 'waiting', 'paused')",
        d.ids(run_ids),
    )
    return [(row[0], row[1]) for row in rows]


def runs_below(d: Dialect, run_ids: list[str], workspace_id: str) -> Gen[list[tuple[str, str]]]:
    """(run, status) for every run these runs started, waited for or not."""
    rows = yield from fetch(
        f"SELECT id, status FROM runs WHERE {d.any_of('parent_run_id')} AND workspace_id = ?",
        d.ids(run_ids),
        workspace_id,
    )
    return [(row[0], row[1]) for row in rows]


async def cancel_descendants(
    driver: TransitionDriver,
    run_id: str,
    workspace_id: str,
    reason: str,
    also: Callable[[RunTransaction, str], Gen[None]] | None = None,
) -> list[RunTransaction]:
    """Cancel every live run below this one, level by level, each in a transition of its
    own. A level is read after the one above it has ended, so a run cannot start a child
    that escapes: what it started before its cancel is found at the next level, and after
    its cancel it starts nothing. Runs that ended are walked through, not cancelled."""
    d = driver.dialect
    changed: list[RunTransaction] = []
    level = [run_id]
    while level:
        below = await driver.run(partial(runs_below, d, level, workspace_id))
        for child_id, status in below:
            if status in RUN_TERMINAL:
                continue
            cancelled = await driver.run(partial(_cancel_child, d, child_id, reason, also))
            if cancelled is not None:
                changed.append(cancelled)
        level = [child_id for child_id, _ in below]
    return changed


async def cancel_children(
    driver: TransitionDriver,
    ended: dict[str, str],
    also: Callable[[RunTransaction, str], Gen[None]] | None = None,
) -> list[RunTransaction]:
    """Cancel the child runs of runs that ended, and theirs in turn: a child does not go on
    working for a parent that will never use its result. Each child in a transition of
    its own, after the parent's committed: locks are taken child first, parent second, so
    no transition holds a parent while it takes a child. `also` runs in each child's
    transition (to audit it, say)."""
    d = driver.dialect
    changed: list[RunTransaction] = []
    pending = dict(ended)
    while pending:
        parents, pending = pending, {}
        children = await driver.run(partial(active_children, d, sorted(parents)))
        for child_id, parent_id in children:
            reason = f"parent run {parent_id} {parents[parent_id]}"
            cancelled = await driver.run(partial(_cancel_child, d, child_id, reason, also))
            if cancelled is not None:
                changed.append(cancelled)
                pending[child_id] = "was cancelled"
    return changed


def _cancel_child(
    d: Dialect,
    child_id: str,
    reason: str,
    also: Callable[[RunTransaction, str], Gen[None]] | None,
) -> Gen[RunTransaction | None]:
    rt = yield from open_run(d, child_id)
    if rt.run.status not in RUN_LIVE:
        return None
    before = rt.run.status
    cancel_run(rt, reason)
    yield from flush_run(rt)
    if also is not None:
        yield from also(rt, before)
    return rt
