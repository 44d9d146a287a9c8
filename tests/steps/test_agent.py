from typing import Any

import pytest
from pydantic import ValidationError

from towpath.domain.step_spec import AS_WRITTEN
from towpath.steps.agent import AgentConfig


def test_agent_by_id_parses() -> None:
    config = AgentConfig.model_validate(
        {
            "agent_id": "ag_1",
            "input": {"question": "{{ input.q }}"},
            "timeout": 60,
            "wait_for_callback": True,
            "retry": {"max_attempts": 2},
        }
    )
    assert config.agent_id == "ag_1"
    assert config.agent is None
    assert config.wait_for_callback is True


def test_agent_by_name_has_defaults() -> None:
    config = AgentConfig.model_validate({"agent": "summariser"})
    assert config.wait_for_callback is False
    assert config.input is None
    # Unset, the agent's own timeout and retry policy apply.
    assert config.timeout is None
    assert config.retry is None


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"input": {"q": 1}},
        {"agent_id": "ag_1", "agent": "summariser"},
        {"agent_id": ""},
        {"agent": 7},
        {"agent": "summariser", "wait_for_callback": "later"},
        {"agent": "summariser", "timeout": -1},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AgentConfig.model_validate(config, context=AS_WRITTEN)


def test_both_references_explain_the_rule() -> None:
    with pytest.raises(ValidationError, match="exactly one of `agent_id` and `agent`"):
        AgentConfig.model_validate({"agent_id": "ag_1", "agent": "summariser"})
