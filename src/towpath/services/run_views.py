"""A run as its clients need it: the steps running now, those waiting and what for, how
many steps are in each status, and how far the run has got."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from towpath.domain.states import RunStatus, StepStatus
from towpath.storage.streams import run_snapshot

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.runtime import Runtime
    from towpath.storage.rows import RunRow
    from towpath.storage.runs import StepGlance

# What a waiting step of each type waits for; another type waits to be resumed by hand.
WAITS_FOR = {
    "approval": "decision",
    "clarification": "answers",
    "wait_for_event": "event",
    "agent": "callback",
    "for_each": "items",
    "sub_workflow": "child_run",
}
# Steps that will not run again: they count as done toward the run's progress.
_DONE = (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.CANCELLED)
_ENDED = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


@dataclass(frozen=True)
class StepNow:
    """A step running or waiting: since when, and for a waiting one what it waits for,
    what it asks (its request, as GET /runs/{id}/steps and the run stream show it) and
    when its wait ends by itself."""

    step_id: str
    step_type: str
    status: str
    attempt: int
    since: datetime | None
    waits_for: str | None = None
    request: dict[str, Any] | None = None
    deadline: datetime | None = None


@dataclass(frozen=True)
class RunView:
    run: RunRow
    context: dict[str, Any]
    running: list[StepNow]
    waiting: list[StepNow]
    counts: dict[str, int]
    # Steps done, of the steps that will run (see `progress`).
    done: int
    will_run: int


async def run_view(runtime: Runtime, caller: Principal, run_id: str) -> RunView:
    """The run, its steps and its graph's size, read as the run stream's snapshot reads them:
    in one consistent snapshot, so the stream's first message is this same view."""
    snapshot = await runtime.db.reading(run_snapshot, run_id, caller.workspace_id, consistent=True)
    return view_of(snapshot.run, snapshot.steps, snapshot.nodes)


def view_of(run: RunRow, steps: list[StepGlance], nodes: int) -> RunView:
    counts = dict.fromkeys(StepStatus, 0)
    for step in steps:
        counts[StepStatus(step.status)] += 1
    done = sum(counts[status] for status in _DONE)
    # Nodes not reached yet will run unless skipped later; once the run has ended, none
    # will: only the steps that did run count.
    reached = len(steps) if run.status in _ENDED else max(nodes, len(steps))
    return RunView(
        run=run,
        context={s.step_id: s.output for s in steps if s.status == StepStatus.COMPLETED},
        running=[_now(s) for s in steps if s.status == StepStatus.RUNNING],
        waiting=[w for s in steps if (w := _waiting(s)) is not None],
        counts={str(status): count for status, count in counts.items()},
        done=done,
        will_run=reached - counts[StepStatus.SKIPPED],
    )


def _now(step: StepGlance, **waiting: Any) -> StepNow:
    return StepNow(
        step.step_id, step.step_type, step.status, step.attempt, step.started_at, **waiting
    )


def _waiting(step: StepGlance) -> StepNow | None:
    state = step.state if isinstance(step.state, dict) else None
    if step.status == StepStatus.WAITING:
        # An approval keeps its own deadline; its timer may wake it sooner, to remind.
        deadline = _moment((state or {}).get("deadline_at")) or step.available_at
        waits_for = WAITS_FOR.get(step.step_type, "resume")
        return _now(step, waits_for=waits_for, request=state, deadline=deadline)
    if step.status == StepStatus.QUEUED and step.started_at is not None:
        # Started, then parked until its timer is due (a delay): the claim's own rule.
        return _now(step, waits_for="timer", request=state, deadline=step.available_at)
    if step.status == StepStatus.HELD:
        # Ready, or due, while its run is paused: it goes on when the run is unpaused.
        return _now(step, waits_for="unpause", request=state, deadline=step.available_at)
    if step.status == StepStatus.RETRYING:
        attempts = step.attempts if isinstance(step.attempts, list) else []
        ended = _moment(attempts[-1].get("ended_at")) if attempts else None
        return StepNow(
            step.step_id,
            step.step_type,
            step.status,
            step.attempt,
            ended,
            waits_for="retry",
            deadline=step.available_at,
        )
    return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
