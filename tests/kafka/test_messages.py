"""What the bridge reads from the results topic: an executor's answer, or a message it skips
with the reason it gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from towpath.kafka_bridge.messages import MalformedResult, TaskResult

TASK = {"task_id": "5f0c9a3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b", "lease_token": "1.abc"}


def _encoded(**fields: Any) -> bytes:
    return json.dumps({**TASK, **fields}).encode()


def test_a_completed_result_carries_its_output() -> None:
    result = TaskResult.decode(_encoded(status="completed", output={"size": 42}))

    assert result == TaskResult(TASK["task_id"], "1.abc", completed=True, output={"size": 42})


def test_a_failed_result_is_retryable_unless_it_says_otherwise() -> None:
    assumed = TaskResult.decode(_encoded(status="failed", error="disk full"))
    final = TaskResult.decode(_encoded(status="failed", error="bad input", retryable=False))

    assert (assumed.completed, assumed.error, assumed.retryable) == (False, "disk full", True)
    assert (final.error, final.retryable) == ("bad input", False)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (None, "not JSON"),
        (json.dumps({"lease_token": "1.abc", "status": "completed"}).encode(), "task_id"),
        (_encoded(task_id="../../api-keys"), "task_id"),
        (_encoded(lease_token=""), "lease_token"),
        (_encoded(status="done"), "status"),
        (_encoded(status="failed"), "error"),
        (_encoded(status="failed", error="x", retryable="yes"), "retryable"),
    ],
)
def test_a_result_it_cannot_answer_with_says_why(value: bytes | None, reason: str) -> None:
    with pytest.raises(MalformedResult, match=reason):
        TaskResult.decode(value)
