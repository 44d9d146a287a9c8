"""The chaos runs' bookkeeping: what the sink saw against what the runs recorded."""

from __future__ import annotations

from typing import Any

from chaos.dags import audit
from chaos.figures import exactly, table
from chaos.streams import faults


def _step(step_id: str, *outcomes: str, item: int | None = None) -> dict[str, Any]:
    suffix = "" if item is None else f"[{item}]"
    return {
        "step_id": step_id,
        "attempts": [
            {"idempotency_key": f"r1:{step_id}{suffix}:1", "outcome": outcome}
            for outcome in outcomes
        ],
    }


def _event(seq: int, event_type: str, step_id: str | None = None) -> dict[str, Any]:
    return {"seq": seq, "event_type": event_type, "step_id": step_id, "data": {}}


def test_a_resent_attempt_is_recorded_only_with_an_entry_per_request() -> None:
    steps = [_step("call", "lost", "completed"), _step("each", "completed", item=0)]
    events = [_event(1, "step.completed", "call"), _event(2, "run.completed")]
    sink = {"r1:call:1": 2, "r1:each[0]:1": 2}

    found = audit({"r1": (steps, events)}, sink)

    assert found["sent"] == 4
    assert found["unrecorded"] == 1  # each[0] was sent twice, recorded once
    assert found["effects"] == 2
    assert found["steps_with_two"] == 0
    assert found["lost_attempts"] == 1


def test_a_step_completed_twice_a_seq_gap_and_a_second_effect_are_counted() -> None:
    steps = [_step("call", "completed")]
    events = [
        _event(1, "step.completed", "call"),
        _event(3, "step.completed", "call"),
    ]
    sink = {"r1:call:1": 1, "r1:call:2": 1}

    found = audit({"r1": (steps, events)}, sink)

    assert (found["twice"], found["gaps"], found["steps_with_two"]) == (1, 1, 1)
    assert found["unrecorded"] == 1


def test_stream_faults_are_gaps_and_repeats_against_every_seq() -> None:
    assert faults([1, 2, 3], 3) == (0, 0)
    assert faults([1, 3, 3], 4) == (2, 1)


def test_the_table_marks_a_missed_target() -> None:
    shown = table([exactly("1 dags", "runs lost", 1, 0), exactly("1 dags", "runs", 5, 5)])

    assert "MISSED" in shown.splitlines()[2]
    assert shown.splitlines()[3].endswith("ok")
