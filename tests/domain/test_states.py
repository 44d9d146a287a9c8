"""The run and step state machines, as data: what may follow what."""

from __future__ import annotations

import pytest

from towpath.domain.states import (
    RUN_TERMINAL,
    RUN_TRANSITIONS,
    STEP_TERMINAL,
    STEP_TRANSITIONS,
    InvalidTransition,
    check_run_transition,
    check_step_transition,
)


def _reachable(start: str, transitions: frozenset[tuple[str, str]]) -> set[str]:
    found, pending = {start}, [start]
    while pending:
        current = pending.pop()
        for source, target in transitions:
            if source == current and target not in found:
                found.add(target)
                pending.append(target)
    return found


def test_every_run_state_is_reached_from_pending_and_can_end() -> None:
    states = {state for pair in RUN_TRANSITIONS for state in pair}
    assert _reachable("pending", RUN_TRANSITIONS) == states
    for state in states:
        assert _reachable(state, RUN_TRANSITIONS) & RUN_TERMINAL, state


def test_a_run_leaves_a_final_state_only_to_run_again() -> None:
    leaving = {(s, t) for s, t in RUN_TRANSITIONS if s in RUN_TERMINAL}
    # A failed run is retried; any ended run may be retried from one of its steps.
    assert leaving == {(s, "running") for s in RUN_TERMINAL}


def test_every_step_state_is_reached_from_pending_and_can_end() -> None:
    states = {state for pair in STEP_TRANSITIONS for state in pair}
    assert _reachable("pending", STEP_TRANSITIONS) == states
    for state in states:
        assert _reachable(state, STEP_TRANSITIONS) & STEP_TERMINAL, state


def test_a_completed_or_skipped_step_changes_only_back_to_pending() -> None:
    # Only a retry from a step sets an ended step back, to wait for its turn again.
    leaving = {(s, t) for s, t in STEP_TRANSITIONS if s in {"completed", "skipped"}}
    assert leaving == {("completed", "pending"), ("skipped", "pending")}


@pytest.mark.parametrize(("current", "wanted"), [("completed", "waiting"), ("pending", "waiting")])
def test_a_transition_not_in_the_table_is_refused(current: str, wanted: str) -> None:
    with pytest.raises(InvalidTransition) as raised:
        check_run_transition(current, wanted)
    assert raised.value.details == {"status": current, "wanted": wanted}
    with pytest.raises(InvalidTransition):
        check_step_transition("completed", "queued")
    check_run_transition("pending", "running")
    check_step_transition("queued", "running")
