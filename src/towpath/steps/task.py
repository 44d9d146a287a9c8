"""The `task` step: puts its input on a named queue of the workspace, and waits for a worker
outside towpath (any language, over the queues API) to complete or fail it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, JsonValue

from towpath.steps.common import WHOLE_NUMBER, Retry, StepConfig
from towpath.steps.execution import Outcome, StepContext, Waiting
from towpath.steps.registry import StepType

QUEUE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
DEFAULT_TASK_TIMEOUT_SECONDS = 3600
# A task may take long (a batch job, a GPU), but not forever: a week at most.
MAX_TASK_TIMEOUT_SECONDS = 7 * 24 * 60 * 60

QueueName = Annotated[
    str,
    Field(
        pattern=QUEUE_NAME_PATTERN,
        description="The queue workers poll: letters, digits, `.`, `_`, `-`; up to 100.",
    ),
]


class TaskConfig(StepConfig):
    """A task for a worker polling `queue`; its output is what the worker completes it with."""

    queue: QueueName
    input: JsonValue = Field(
        default=None, description="Input handed to the worker (any JSON); strings may be templates."
    )
    timeout_seconds: Annotated[int, Field(gt=0, le=MAX_TASK_TIMEOUT_SECONDS), WHOLE_NUMBER] = Field(
        default=DEFAULT_TASK_TIMEOUT_SECONDS,
        description="Seconds the step may wait for a worker's answer, all leases included.",
    )
    retry: Retry | None = Field(
        default=None, description="Retry policy for failures a worker reports as retryable."
    )


def run(config: TaskConfig, context: StepContext) -> Waiting:
    # The engine puts the task on its queue in the transaction that records this wait.
    request = {"queue": config.queue, "input": config.input}
    return Waiting(request, timeout_seconds=config.timeout_seconds)


async def execute(config: TaskConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="task",
    label="Task",
    description="Put a task on a queue and wait for a worker to complete it.",
    icon="inbox",
    category="integrations",
    config_model=TaskConfig,
    execute=execute,
)
