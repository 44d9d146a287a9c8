"""The `transform` step: builds a new object from templates."""

from __future__ import annotations

from pydantic import Field, JsonValue

from towpath.steps.common import StepConfig
from towpath.steps.execution import Completed, Outcome, StepContext
from towpath.steps.registry import StepType


class TransformConfig(StepConfig):
    """Builds the step's output object from templates."""

    output: dict[str, JsonValue] = Field(
        description="The object to build; strings anywhere inside may be templates."
    )


def run(config: TransformConfig, context: StepContext) -> Outcome:
    # The engine rendered every template already; the built object is the output.
    return Completed(config.output)


async def execute(config: TransformConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="transform",
    label="Transform",
    description="Build a new object from templates over the input and earlier steps.",
    icon="shuffle",
    category="data",
    config_model=TransformConfig,
    execute=execute,
    inline=run,
)
