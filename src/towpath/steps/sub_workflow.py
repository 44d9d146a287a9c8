"""The `sub_workflow` step: runs another published workflow and, by default, waits for it."""

from __future__ import annotations

from pydantic import Field, JsonValue

from towpath.steps.common import StepConfig, Text
from towpath.steps.execution import Outcome, StartChild, StepContext
from towpath.steps.registry import StepType


class SubWorkflowConfig(StepConfig):
    """Starts a run of another published workflow."""

    workflow_id: Text = Field(min_length=1, description="Id of the workflow to run.")
    input: dict[str, JsonValue] = Field(
        default_factory=dict, description="Input of the child run; strings may be templates."
    )
    wait: bool = Field(
        default=True, description="Wait for the child run to end and take its output."
    )


def run(config: SubWorkflowConfig, context: StepContext) -> Outcome:
    # The engine starts the child run in the same transaction that records this outcome.
    return StartChild(config.workflow_id, dict(config.input), config.wait)


async def execute(config: SubWorkflowConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="sub_workflow",
    label="Sub-workflow",
    description="Run another published workflow and wait for its result.",
    icon="workflow",
    category="flow",
    config_model=SubWorkflowConfig,
    execute=execute,
    # No I/O: it may run inside the transaction that made it ready.
    inline=run,
)
