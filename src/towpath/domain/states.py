"""Run and step-run states, and the transitions allowed between them, as data."""

from __future__ import annotations

from typing import Final

from towpath.domain.errors import Conflict

RUN_TERMINAL: Final = frozenset({"completed", "failed", "cancelled"})
STEP_TERMINAL: Final = frozenset({"completed", "failed", "skipped", "cancelled"})
# States in which a step run holds or waits for work.
STEP_ACTIVE: Final = frozenset({"queued", "running", "retrying", "waiting"})

RUN_TRANSITIONS: Final = frozenset(
    {
        ("pending", "running"),
        ("pending", "cancelled"),
        ("running", "waiting"),
        ("running", "completed"),
        ("running", "failed"),
        ("running", "cancelled"),
        ("waiting", "running"),
        ("waiting", "failed"),
        ("waiting", "cancelled"),
        ("failed", "running"),  # retry
    }
)

STEP_TRANSITIONS: Final = frozenset(
    {
        ("pending", "queued"),
        ("pending", "skipped"),
        ("pending", "cancelled"),
        ("queued", "running"),
        ("queued", "cancelled"),
        ("running", "running"),  # a lease that expired is taken by another worker
        ("running", "completed"),
        ("running", "failed"),
        ("running", "waiting"),
        ("running", "retrying"),
        ("running", "queued"),  # a durable timer parks the step until it is due
        ("running", "cancelled"),
        ("retrying", "running"),
        ("retrying", "cancelled"),
        ("waiting", "completed"),
        ("waiting", "failed"),
        ("waiting", "cancelled"),
        ("failed", "retrying"),  # retry of a failed run
        ("cancelled", "retrying"),  # a step the failure cancelled runs again on retry
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
