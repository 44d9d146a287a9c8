"""The `switch` step: follows the edge whose case matches a value, or `default`."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from towpath.steps.common import StepConfig, Text
from towpath.steps.execution import Completed, Outcome, StepContext
from towpath.steps.registry import StepType

DEFAULT_HANDLE = "default"


def _not_the_default_handle(name: str) -> str:
    # `default` is the handle taken when nothing matches; a case by that name would make
    # its edge ambiguous.
    if name == DEFAULT_HANDLE:
        raise ValueError(f"{DEFAULT_HANDLE!r} is reserved and cannot name a case")
    return name


CaseName = Annotated[
    str,
    Field(min_length=1, max_length=128, json_schema_extra={"not": {"const": DEFAULT_HANDLE}}),
    AfterValidator(_not_the_default_handle),
]


class SwitchConfig(StepConfig):
    """Renders a value and leaves by the case it matches, or by `default`."""

    value: Text = Field(
        min_length=1, description='Template giving the value to match, e.g. "{{ input.tier }}".'
    )
    cases: dict[CaseName, Text] = Field(
        min_length=1,
        description=(
            "Edge handle of each case (any name but `default`), mapped to the value that"
            " selects it. Values are compared as text: a number a template gives is its text."
        ),
    )


def switch_handles(config: BaseModel) -> frozenset[str]:
    """The case names plus `default`."""
    if not isinstance(config, SwitchConfig):
        raise TypeError(f"expected SwitchConfig, got {type(config).__name__}")
    return frozenset(config.cases) | {DEFAULT_HANDLE}


def run(config: SwitchConfig, context: StepContext) -> Outcome:
    case = next((name for name, match in config.cases.items() if match == config.value), None)
    return Completed({"value": config.value, "case": case}, handle=case or DEFAULT_HANDLE)


async def execute(config: SwitchConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="switch",
    label="Switch",
    description="Follow the edge whose case matches a value, or the default edge.",
    icon="split",
    category="logic",
    config_model=SwitchConfig,
    handles=switch_handles,
    requires_handle=True,
    execute=execute,
    inline=run,
)
