"""The `agent` step: calls a registered agent, which may complete later by callback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from pydantic import ConfigDict, Field, JsonValue, model_validator

from towpath.steps.common import (
    DEFAULT_TIMEOUT_SECONDS,
    SINGLE_ATTEMPT,
    Retry,
    StepConfig,
    Text,
    Timeout,
    exactly_one_of,
)
from towpath.steps.execution import Completed, Failed, Waiting
from towpath.steps.http_call import send
from towpath.steps.registry import StepType

if TYPE_CHECKING:
    from towpath.steps.execution import Outcome, StepContext


class AgentConfig(StepConfig):
    """Calls a registered agent, named by its id or by its name."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("agent_id", "agent"))

    agent_id: Text | None = Field(
        default=None, min_length=1, description="Id of the agent; give this or `agent`."
    )
    agent: Text | None = Field(
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

    @property
    def reference(self) -> str:
        """The agent's id or name, whichever the config gives."""
        reference = self.agent_id if self.agent_id is not None else self.agent
        assert reference is not None  # noqa: S101 - the validator above guarantees one
        return reference


async def execute(config: AgentConfig, context: StepContext) -> Outcome:
    """Call the agent once: its answer completes the step, or a 202 leaves it waiting."""
    url = context.services.agent_base_urls.get(config.reference)
    if url is None:
        return Failed(f"agent {config.reference!r} is not registered", retryable=False)
    payload: dict[str, Any] = {
        "run_id": context.run_id,
        "step_id": context.step_id,
        "attempt": context.attempt,
        "input": config.input,
    }
    if config.wait_for_callback:
        # EngineServices does not know towpath's public callback address yet.
        payload["callback_url"] = None
    answer = await send(
        context.services.http,
        "POST",
        url,
        idempotency_key=context.idempotency_key,
        timeout_seconds=config.timeout,
        json_body=payload,
        log=context.log,
    )
    if isinstance(answer, Failed):
        return answer
    if not 200 <= answer.status < 300:
        # Redirects are not followed: a POST must not silently turn into a GET elsewhere.
        message = f"HTTP {answer.status} from {url}: agents answer with a 2xx status"
        return Failed(message, kind="error", retryable=False)
    is_json, value = answer.json_value()
    if config.wait_for_callback and answer.status == 202:
        return Waiting({"agent": config.reference, "accepted": value if is_json else None})
    return Completed(value if is_json else {"text": answer.text})


STEP = StepType(
    type="agent",
    label="Agent",
    description="Call a registered agent; it may complete later by callback.",
    icon="bot",
    category="integrations",
    config_model=AgentConfig,
    execute=execute,
)
