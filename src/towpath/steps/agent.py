"""The `agent` step: calls a registered agent, which may complete later by callback."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Self

from pydantic import ConfigDict, Field, JsonValue, ValidationError, model_validator

from towpath.domain.templates import render_value
from towpath.steps.callback_tokens import callback_token
from towpath.steps.common import (
    SINGLE_ATTEMPT,
    Retry,
    RetryPolicy,
    StepConfig,
    Text,
    Timeout,
    WaitTimeout,
    exactly_one_of,
)
from towpath.steps.execution import Completed, Failed, Waiting
from towpath.steps.hiding import Hiding
from towpath.steps.http_call import send
from towpath.steps.registry import StepType

if TYPE_CHECKING:
    from towpath.domain.agents import AgentTarget
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
    timeout: Timeout | None = Field(
        default=None, description="Seconds the call may take; unset uses the agent's timeout."
    )
    wait_for_callback: bool = Field(
        default=False,
        description="Keep the step waiting until the agent posts its result to the callback.",
    )
    callback_timeout: WaitTimeout = None
    retry: Retry | None = Field(
        default=None, description="Retry policy for failed calls; unset uses the agent's."
    )

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


def callback_base(public_url: str, run_id: str, step_id: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/runs/{run_id}/steps/{step_id}"


def _policy(config: AgentConfig, agent: AgentTarget) -> RetryPolicy:
    if config.retry is not None:
        return config.retry
    try:
        return RetryPolicy.model_validate(agent.retry)
    except ValidationError:
        return SINGLE_ATTEMPT


def _callback(context: StepContext) -> dict[str, Any] | Failed:
    services = context.services
    if not services.public_url:
        return Failed(
            "this agent step waits for a callback, but towpath has no public URL to give"
            " the agent: set TOWPATH_PUBLIC_URL",
            retryable=False,
        )
    base = callback_base(services.public_url, context.run_id, context.step_id)
    token = callback_token(services.callback_key, context.idempotency_key, context.attempt)
    return {
        "callback_url": f"{base}/complete",
        "fail_url": f"{base}/fail",
        "heartbeat_url": f"{base}/heartbeat",
        "callback_token": token,
    }


async def execute(config: AgentConfig, context: StepContext) -> Outcome:
    """Call the agent once: its answer completes the step, or a 202 leaves it waiting."""
    lookup = context.services.agents
    agent = await lookup.find(context.run_id, config.reference) if lookup else None
    if agent is None:
        return Failed(f"agent {config.reference!r} is not registered", retryable=False)
    if not agent.enabled:
        return Failed(f"agent {agent.name!r} is disabled", retryable=False)
    # The secrets its headers name are the agent's, not the step's: the engine does not
    # know them, so the step keeps them out of what it records itself.
    hiding = Hiding(agent.secrets)
    return hiding.outcome(await _call(config, hiding.context(context), agent))


async def _call(config: AgentConfig, context: StepContext, agent: AgentTarget) -> Outcome:
    policy = _policy(config, agent)
    payload: dict[str, Any] = {
        "run_id": context.run_id,
        "step_id": context.step_id,
        "attempt": context.attempt,
        "input": config.input,
    }
    if config.wait_for_callback:
        callback = _callback(context)
        if isinstance(callback, Failed):
            return callback
        payload.update(callback)
    # Header values may name secrets: rendered now, with the run's template context.
    variables = context.variables
    if agent.secrets:
        secrets = {**(variables.get("secrets") or {}), **agent.secrets}
        variables = {**variables, "secrets": secrets}
    rendered = render_value(agent.headers, variables)
    headers = {name: str(value) for name, value in rendered.items()}
    answer = await send(
        context.services.http,
        "POST",
        agent.url,
        idempotency_key=context.idempotency_key,
        timeout_seconds=config.timeout or agent.timeout_seconds,
        headers=headers,
        json_body=payload,
        log=context.log,
        breakers=context.services.breakers,
    )
    if isinstance(answer, Failed):
        return dataclasses.replace(answer, retry=policy)
    if not 200 <= answer.status < 300:
        # Redirects are not followed: a POST must not silently turn into a GET elsewhere.
        message = f"HTTP {answer.status} from agent {agent.name!r}: agents answer with a 2xx"
        return Failed(message, kind="error", retryable=False)
    is_json, value = answer.json_value()
    if config.wait_for_callback and answer.status == 202:
        request = {
            "agent": agent.name,
            "agent_id": agent.id,
            "accepted": value if is_json else None,
        }
        return Waiting(request, timeout_seconds=config.callback_timeout)
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
