"""The `wait_for_event` step: waits until an event with a matching name and key is posted."""

from __future__ import annotations

from pydantic import Field

from towpath.steps.common import StepConfig, Text, WaitTimeout
from towpath.steps.execution import Outcome, StepContext, Waiting
from towpath.steps.registry import StepType


class WaitForEventConfig(StepConfig):
    """Waits for an event posted under a name and, optionally, a key."""

    event_name: Text = Field(min_length=1, description="Name of the event to wait for.")
    key: Text | None = Field(
        default=None,
        description='Template giving the key the event must carry, e.g. "{{ input.order_id }}".',
    )
    timeout_seconds: WaitTimeout = None


def run(config: WaitForEventConfig, context: StepContext) -> Outcome:
    request = {"event_name": config.event_name, "key": config.key}
    return Waiting(request, config.timeout_seconds)


async def execute(config: WaitForEventConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="wait_for_event",
    label="Wait for event",
    description="Wait until an event with a matching name and key is posted.",
    icon="radio",
    category="flow",
    config_model=WaitForEventConfig,
    execute=execute,
    # No I/O: it may run inside the transaction that made it ready.
    inline=run,
)
