"""Pausing a run: its steps in flight finish and are recorded, but nothing new starts.

A paused run's ready steps are `held`, out of the queue, so claims never see them and
the claim path needs no test of its own. A step keeps its `available_at` while held: a
timer that fell due meanwhile fires as soon as the run is unpaused, at its own time, not
shifted. Waiting steps' timeouts and the run's deadline wait for the unpause too (see
`engine.timers`). Answers to waiting steps are taken while paused; what they make ready
is held like the rest, and a run whose steps all ended while paused ends once unpaused,
unless its deadline fell due meanwhile: then it fails at the unpause, as it would have.
Sub-workflow runs the run started go on: a pause is of one run. A step in flight whose
lease runs out is taken over by another worker as usual: it is still the same attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.states import (
    STEP_ACTIVE,
    EventType,
    RunStatus,
    StepStatus,
    check_run_transition,
)
from towpath.engine.lifecycle import RunStateConflict
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.sql import fetch

if TYPE_CHECKING:
    from towpath.domain.scheduler import RunGraph
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction


def pause_run(rt: RunTransaction, by: str, reason: str | None) -> None:
    """No step starts from now on: the ready ones are held, the running ones go on."""
    if rt.run.status not in (RunStatus.RUNNING, RunStatus.WAITING):
        raise RunStateConflict(rt.run, RunStatus.PAUSED)
    _become(rt, RunStatus.PAUSED, EventType.RUN_PAUSED, paused_by=by, reason=reason)
    rt.hold_ready_steps()


def unpause_run(rt: RunTransaction, run_graph: RunGraph, by: str) -> Gen[None]:
    """The held steps go back to the queue as they were (a retry stays a retry), due at
    their own times, and the run carries on: it may end at once, if all ended meanwhile."""
    if rt.run.status != RunStatus.PAUSED:
        raise RunStateConflict(rt.run, "unpaused")
    held = [row for row in rt.steps.values() if row.status == StepStatus.HELD]
    held_from = (yield from _held_from(rt)) if held else {}
    active = {row.status for row in rt.steps.values() if row.status in STEP_ACTIVE}
    status = RunStatus.WAITING if active == {StepStatus.WAITING} else RunStatus.RUNNING
    _become(rt, status, EventType.RUN_UNPAUSED, unpaused_by=by)
    deadline = rt.run.deadline_at
    if deadline is not None and deadline <= rt.now:
        # The deadline fell due while paused, so it comes first, before anything answered
        # since: the run ends as its timer would have ended it.
        rt.fail_run("the run took longer than its timeout")
        return
    for row in held:
        was = held_from.get((row.step_id, row.item_index), StepStatus.QUEUED)
        rt.set_step_status(row, StepStatus(was), reason="the run was unpaused")
    rt.advance(run_graph)


def _become(rt: RunTransaction, status: RunStatus, event: EventType, **data: Any) -> None:
    """The run's status changes, with who did it in the event."""
    check_run_transition(rt.run.status, status)
    rt.run.status = status
    rt.run.updated_at = rt.now
    rt.emit(event, status=status, **data)


def _held_from(rt: RunTransaction) -> Gen[dict[tuple[str, int], str]]:
    """What each held step was when it was held, from the events since the run was paused:
    a step that became ready while paused was never queued, and is queued."""
    rows = yield from fetch(
        "SELECT step_id, data FROM run_events WHERE run_id = ? AND event_type = ?"
        " AND seq > (SELECT max(seq) FROM run_events WHERE run_id = ? AND event_type = ?)"
        " ORDER BY seq",
        rt.run.id,
        EventType.STEP_HELD.value,
        rt.run.id,
        EventType.RUN_PAUSED.value,
    )
    found: dict[tuple[str, int], str] = {}
    for step_id, raw in rows:
        data = rt.d.read_doc(raw) or {}
        key = (step_id, int(data.get("item_index", WHOLE_STEP)))
        found[key] = str(data.get("held_from", StepStatus.QUEUED))
    return found
