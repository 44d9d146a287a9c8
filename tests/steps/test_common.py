import pytest
from pydantic import ValidationError

from towpath.steps.common import SINGLE_ATTEMPT, RetryPolicy


def test_default_policy_is_a_single_attempt() -> None:
    assert RetryPolicy() == SINGLE_ATTEMPT
    assert SINGLE_ATTEMPT.max_attempts == 1
    assert SINGLE_ATTEMPT.backoff_seconds == 1
    assert SINGLE_ATTEMPT.max_backoff_seconds == 300
    assert SINGLE_ATTEMPT.retry_on is None


def test_full_policy_parses() -> None:
    policy = RetryPolicy.model_validate(
        {
            "max_attempts": 5,
            "backoff_seconds": 0.5,
            "max_backoff_seconds": 10,
            "retry_on": ["timeout", "5xx", "network", "error"],
        }
    )
    assert policy.max_attempts == 5
    assert policy.retry_on == ["timeout", "5xx", "network", "error"]


@pytest.mark.parametrize(
    "policy",
    [
        {"max_attempts": 0},
        {"max_attempts": 21},
        {"max_attempts": "many"},
        {"backoff_seconds": -1},
        {"max_attempts": True},
        {"max_attempts": 2.5},
        {"backoff_seconds": "1"},
        # A wait past any date the next attempt could be set for.
        {"backoff_seconds": 1e20},
        {"max_backoff_seconds": 1e20},
        {"retry_on": ["sometimes"]},
        {"retry_on": "timeout"},
        {"jitter": True},
    ],
)
def test_invalid_policy_is_refused(policy: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate(policy)


def test_a_whole_float_counts_as_an_integer_as_in_json_schema() -> None:
    assert RetryPolicy.model_validate({"max_attempts": 3.0}).max_attempts == 3


def test_a_first_backoff_above_the_cap_waits_the_cap() -> None:
    # Nothing to refuse: max_backoff_seconds bounds every wait, the first included.
    policy = RetryPolicy.model_validate({"backoff_seconds": 60, "max_backoff_seconds": 30})
    assert (policy.backoff_seconds, policy.max_backoff_seconds) == (60, 30)


def test_policy_is_immutable_so_the_shared_default_is_safe() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        # The write mypy already refuses is the one checked at run time.
        SINGLE_ATTEMPT.max_attempts = 3  # type: ignore[misc]
