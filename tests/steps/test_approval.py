from typing import Any

import pytest
from pydantic import ValidationError

from towpath.steps.approval import STEP, ApprovalConfig


def test_full_config_parses() -> None:
    config = ApprovalConfig.model_validate(
        {
            "message": "Refund {{ input.amount }}?",
            "timeout_seconds": 3600,
            "on_timeout": "reject",
            "approvers": ["ana@example.test", "ops"],
        }
    )
    assert config.on_timeout == "reject"
    assert config.approvers == ["ana@example.test", "ops"]


def test_defaults() -> None:
    config = ApprovalConfig.model_validate({"message": "Ship it?"})
    assert config.timeout_seconds is None
    assert config.on_timeout == "fail"
    assert config.approvers == []


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"message": ""},
        {"message": "ok?", "timeout_seconds": 0},
        {"message": "ok?", "timeout_seconds": 1.5},
        {"message": "ok?", "on_timeout": "skip"},
        {"message": "ok?", "approvers": "ops"},
        {"message": "ok?", "approvers": [""]},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ApprovalConfig.model_validate(config)


def test_leaves_by_approved_or_rejected_and_a_handle_is_optional() -> None:
    config = ApprovalConfig.model_validate({"message": "Ship it?"})
    assert STEP.branch_handles(config) == frozenset({"approved", "rejected"})
    assert STEP.handle_required() is False
