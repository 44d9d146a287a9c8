"""The `condition` step: a sandboxed expression picks the `true` or `false` edge."""

from __future__ import annotations

from pydantic import Field

from towpath.domain.templates import evaluate_expression
from towpath.steps.common import StepConfig
from towpath.steps.execution import Completed, Outcome, StepContext
from towpath.steps.registry import StepType

CONDITION_HANDLES = frozenset({"true", "false"})


class ConditionConfig(StepConfig):
    """Evaluates an expression and leaves by the `true` or the `false` edge."""

    expression: str = Field(
        min_length=1,
        description="Jinja expression without braces, e.g. `input.amount > 100`.",
    )


def run(config: ConditionConfig, context: StepContext) -> Outcome:
    result = bool(evaluate_expression(config.expression, context.variables))
    return Completed({"result": result}, handle="true" if result else "false")


async def execute(config: ConditionConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="condition",
    label="Condition",
    description="Follow the true or the false edge, as an expression decides.",
    icon="git-branch",
    category="logic",
    config_model=ConditionConfig,
    expression_fields=("expression",),
    handles=lambda _: CONDITION_HANDLES,
    requires_handle=True,
    raw_fields=("expression",),
    execute=execute,
    inline=run,
)
