"""The `for_each` step: runs one step type for each item of a list, with bounded concurrency."""

from __future__ import annotations

from typing import Any

from pydantic import Field, JsonValue, field_validator, model_validator

from towpath.domain.templates import render_value
from towpath.steps.common import Integer, StepConfig
from towpath.steps.execution import Failed, FanOut, Outcome, StepContext
from towpath.steps.registry import StepType

FOR_EACH = "for_each"

# Step types no item may run. A person answers a waiting step through the API by its node
# id, which cannot tell one item from another (an event can: each item waits under the
# key its template gives, e.g. "{{ item.order_id }}"). A loop in a loop is a
# sub-workflow's job.
NOT_PER_ITEM = {
    FOR_EACH: "a for_each cannot run another for_each; run a sub_workflow per item instead",
    "approval": "an approval cannot wait per item: it is answered by node id, not by item",
    "clarification": "a clarification cannot wait per item: it is answered by node id, not by item",
}


_NOT_PER_ITEM_NAMES: list[JsonValue] = [*sorted(NOT_PER_ITEM)]


class InnerStep(StepConfig):
    """The step run once per item; its config is checked against its own type elsewhere."""

    type: str = Field(
        min_length=1,
        description="Step type to run for each item; not a for_each nor a step that waits"
        " for a person.",
        json_schema_extra={"not": {"enum": _NOT_PER_ITEM_NAMES}},
    )
    config: dict[str, Any] = Field(
        default_factory=dict, description="Config of that step, as its type defines it."
    )

    @field_validator("type")
    @classmethod
    def _can_run_per_item(cls, step_type: str) -> str:
        refusal = NOT_PER_ITEM.get(step_type)
        if refusal is not None:
            raise ValueError(refusal)
        return step_type

    @model_validator(mode="after")
    def _answerable_per_item(self) -> InnerStep:
        # Its callback URLs name the node, as a person's answer does: no item could be told.
        if self.type == "agent" and self.config.get("wait_for_callback") is True:
            raise ValueError(
                "an agent that waits for a callback cannot run per item: its callback names"
                " the node, not the item; run a sub_workflow per item instead"
            )
        return self


class ForEachConfig(StepConfig):
    """Runs one step for each item of a list."""

    items: str = Field(
        min_length=1, description='Template giving the list, e.g. "{{ input.users }}".'
    )
    step: InnerStep = Field(description="The step to run for each item.")
    concurrency: Integer = Field(
        default=5, ge=1, le=100, description="Items processed at the same time, at most."
    )


def run(config: ForEachConfig, context: StepContext) -> Outcome:
    items = render_value(config.items, context.variables)
    if not isinstance(items, list):
        kind = type(items).__name__
        return Failed(f"items must give a list; {config.items!r} gave a {kind}", retryable=False)
    return FanOut(items, config.concurrency, config.step.type)


async def execute(config: ForEachConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type=FOR_EACH,
    label="For each",
    description="Run a step for each item of a list, a bounded number at a time.",
    icon="repeat",
    category="data",
    config_model=ForEachConfig,
    # The list and the inner step are evaluated by the step and per item, not up front.
    raw_fields=("items", "step"),
    execute=execute,
    # No I/O: it may run inside the transaction that made it ready.
    inline=run,
)
