"""The `emit` step: sends a named event to the run's watchers, and passes on its data."""

from __future__ import annotations

from pydantic import Field, JsonValue

from towpath.steps.common import StepConfig
from towpath.steps.execution import Completed, Outcome, StepContext
from towpath.steps.registry import StepType


class EmitConfig(StepConfig):
    """A `step.emitted` run event with this name and data; its output is both."""

    event: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z][A-Za-z0-9_.:-]*$",
        description="The event's name, as the run's watchers read it.",
    )
    data: dict[str, JsonValue] = Field(
        default_factory=dict, description="What the event carries; strings may be templates."
    )


def run(config: EmitConfig, context: StepContext) -> Outcome:
    # The engine commits the event with the step's completion (engine.step_records).
    return Completed({"event": config.event, "data": config.data})


async def execute(config: EmitConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="emit",
    label="Emit event",
    description="Send a named event, with data, to everyone watching the run.",
    icon="radio",
    category="flow",
    config_model=EmitConfig,
    execute=execute,
    inline=run,
)
