"""Run and step-run states, the events a run records, and the transitions allowed
between states, as data."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from towpath.domain.errors import Conflict


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Steps in flight finish; nothing new starts until the run is unpaused.
    PAUSED = "paused"


class StepStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    # Ready, but its run is paused: queued again when the run is unpaused.
    HELD = "held"


class EventType(StrEnum):
    """The `type` of a run's events, as clients read them over streams and the API."""

    RUN_CREATED = "run.created"
    RUN_STARTED = "run.started"
    RUN_WAITING = "run.waiting"
    RUN_RESUMED = "run.resumed"
    RUN_RETRIED = "run.retried"
    RUN_COMPLETED = "run.completed"
    RUN_FAILED = "run.failed"
    RUN_CANCELLED = "run.cancelled"
    RUN_EVENT = "run.event"
    # A pending run waits for its start: a concurrency slot, a rate window, an unpause.
    RUN_QUEUED = "run.queued"
    RUN_PAUSED = "run.paused"
    RUN_UNPAUSED = "run.unpaused"
    STEP_PENDING = "step.pending"
    STEP_QUEUED = "step.queued"
    STEP_STARTED = "step.started"
    STEP_WAITING = "step.waiting"
    STEP_DELAYED = "step.delayed"
    STEP_RESUMED = "step.resumed"
    STEP_RETRYING = "step.retrying"
    STEP_COMPLETED = "step.completed"
    STEP_FAILED = "step.failed"
    STEP_SKIPPED = "step.skipped"
    STEP_CANCELLED = "step.cancelled"
    STEP_ATTEMPT_LOST = "step.attempt_lost"
    STEP_LOG = "step.log"
    STEP_HELD = "step.held"


R = RunStatus
S = StepStatus

RUN_TERMINAL: Final = frozenset({R.COMPLETED, R.FAILED, R.CANCELLED})
STEP_TERMINAL: Final = frozenset({S.COMPLETED, S.FAILED, S.SKIPPED, S.CANCELLED})
# States in which a step run holds or waits for work.
STEP_ACTIVE: Final = frozenset({S.QUEUED, S.RUNNING, S.RETRYING, S.WAITING, S.HELD})
# A run that has not ended: it may be cancelled.
RUN_LIVE: Final = frozenset({R.PENDING, R.RUNNING, R.WAITING, R.PAUSED})

RUN_TRANSITIONS: Final = frozenset(
    {
        (R.PENDING, R.RUNNING),
        (R.PENDING, R.CANCELLED),
        (R.RUNNING, R.WAITING),
        (R.RUNNING, R.COMPLETED),
        (R.RUNNING, R.FAILED),
        (R.RUNNING, R.CANCELLED),
        (R.WAITING, R.RUNNING),
        (R.WAITING, R.FAILED),
        (R.WAITING, R.CANCELLED),
        (R.FAILED, R.RUNNING),  # retry
        (R.COMPLETED, R.RUNNING),  # retry from a step
        (R.CANCELLED, R.RUNNING),  # retry from a step
        (R.RUNNING, R.PAUSED),
        (R.WAITING, R.PAUSED),
        (R.PAUSED, R.RUNNING),
        (R.PAUSED, R.WAITING),  # unpaused with only waiting steps left
        (R.PAUSED, R.CANCELLED),
        (R.PAUSED, R.FAILED),
    }
)

STEP_TRANSITIONS: Final = frozenset(
    {
        (S.PENDING, S.QUEUED),
        (S.PENDING, S.SKIPPED),
        (S.PENDING, S.CANCELLED),
        (S.QUEUED, S.RUNNING),
        (S.QUEUED, S.CANCELLED),
        (S.RUNNING, S.RUNNING),  # a lease that expired is taken by another worker
        (S.RUNNING, S.COMPLETED),
        (S.RUNNING, S.FAILED),
        (S.RUNNING, S.WAITING),
        (S.RUNNING, S.RETRYING),
        (S.RUNNING, S.QUEUED),  # a durable timer parks the step until it is due
        (S.RUNNING, S.CANCELLED),
        (S.RETRYING, S.RUNNING),
        (S.RETRYING, S.CANCELLED),
        (S.WAITING, S.COMPLETED),
        (S.WAITING, S.FAILED),
        (S.WAITING, S.CANCELLED),
        (S.WAITING, S.RETRYING),  # a task its worker failed as retryable
        (S.FAILED, S.RETRYING),  # retry of a failed run
        (S.CANCELLED, S.RETRYING),  # a step the failure cancelled runs again on retry
        # A retry from a step sets it and what is downstream back to pending: each runs
        # again (retrying, its attempts counting on) once what it waits for has ended.
        (S.COMPLETED, S.PENDING),
        (S.FAILED, S.PENDING),
        (S.SKIPPED, S.PENDING),
        (S.CANCELLED, S.PENDING),
        (S.PENDING, S.RETRYING),
        (S.QUEUED, S.HELD),  # its run was paused
        (S.RETRYING, S.HELD),
        (S.HELD, S.QUEUED),  # its run was unpaused
        (S.HELD, S.RETRYING),
        (S.HELD, S.CANCELLED),
    }
)


class InvalidTransition(Conflict):
    code = "INVALID_STATE"

    def __init__(self, kind: str, current: str, wanted: str) -> None:
        super().__init__(
            f"{kind} is {current}; it cannot become {wanted}",
            details={"status": current, "wanted": wanted},
        )


def can_run_become(current: str, wanted: str) -> bool:
    return (current, wanted) in RUN_TRANSITIONS


def can_step_become(current: str, wanted: str) -> bool:
    return (current, wanted) in STEP_TRANSITIONS


def check_run_transition(current: str, wanted: str) -> None:
    if not can_run_become(current, wanted):
        raise InvalidTransition("the run", current, wanted)


def check_step_transition(current: str, wanted: str) -> None:
    if not can_step_become(current, wanted):
        raise InvalidTransition("the step", current, wanted)
