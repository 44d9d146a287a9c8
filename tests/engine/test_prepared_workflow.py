"""What the engine takes from a stored definition, including one stored before a rule
bounded it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import node
from towpath.domain.validation import MAX_RUN_TIMEOUT_SECONDS
from towpath.engine.graphs import PreparedWorkflow


def prepared(**settings: object) -> PreparedWorkflow:
    definition = {"nodes": [node("a", "transform", {"output": {}})], "edges": [], **settings}
    return PreparedWorkflow("wf", "ws", "published", definition, None)


def test_a_run_timeout_stored_past_the_bound_is_held_to_it() -> None:
    timeout = prepared(timeout_seconds=1e20).timeout_seconds

    assert timeout == MAX_RUN_TIMEOUT_SECONDS
    # A deadline that far from now is still a date.
    assert datetime.now(UTC) + timedelta(seconds=timeout) > datetime.now(UTC)


def test_a_run_timeout_within_the_bound_is_kept() -> None:
    assert prepared(timeout_seconds=90).timeout_seconds == 90.0
    assert prepared().timeout_seconds is None
