"""The `agent` step: calls a registered agent, which may complete later by callback."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from towpath.steps.common import DEFAULT_TIMEOUT_SECONDS, SINGLE_ATTEMPT, Retry, Timeout
from towpath.steps.registry import StepType


class AgentConfig(BaseModel):
    """Calls a registered agent, named by its id or by its name."""

    model_config = ConfigDict(extra="forbid")

    agent_id: str | None = Field(
        default=None, min_length=1, description="Id of the agent; give this or `agent`."
    )
    agent: str | None = Field(
        default=None, min_length=1, description="Name of the agent; give this or `agent_id`."
    )
    input: JsonValue = Field(
        default=None, description="Input sent to the agent (any JSON); strings may be templates."
    )
    timeout: Timeout = DEFAULT_TIMEOUT_SECONDS
    wait_for_callback: bool = Field(
        default=False,
        description="Keep the step waiting until the agent posts its result to the callback.",
    )
    retry: Retry = SINGLE_ATTEMPT

    @model_validator(mode="after")
    def _exactly_one_agent_reference(self) -> Self:
        if (self.agent_id is None) == (self.agent is None):
            raise ValueError("give exactly one of `agent_id` and `agent`")
        return self


STEP = StepType(
    type="agent",
    label="Agent",
    description="Call a registered agent; it may complete later by callback.",
    icon="bot",
    category="integrations",
    config_model=AgentConfig,
)
