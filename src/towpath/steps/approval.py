"""The `approval` step: waits for a human to approve or reject."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from towpath.steps.common import StepConfig, Text, WaitTimeout
from towpath.steps.execution import Outcome, StepContext, Waiting
from towpath.steps.registry import StepType

APPROVAL_HANDLES = frozenset({"approved", "rejected"})


class ApprovalConfig(StepConfig):
    """Asks people to approve or reject, then leaves by `approved` or `rejected`."""

    message: Text = Field(min_length=1, description="What is asked; may be a template.")
    timeout_seconds: WaitTimeout = None
    on_timeout: Literal["fail", "approve", "reject"] = Field(
        default="fail", description="What a timeout counts as."
    )
    approvers: list[Annotated[Text, Field(min_length=1)]] = Field(
        default_factory=list,
        description=(
            "Who may decide: `role:<role>` (that role or a higher one), `key:<api key id>`,"
            " `user:<subject>` or a bare JWT subject; anyone else gets 403. Empty lets"
            " anyone who may answer runs decide."
        ),
    )


def run(config: ApprovalConfig, context: StepContext) -> Outcome:
    request = {"message": config.message, "approvers": config.approvers}
    return Waiting(request, config.timeout_seconds)


async def execute(config: ApprovalConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="approval",
    label="Approval",
    description="Wait for a person to approve or reject, with an optional comment.",
    icon="user-check",
    category="flow",
    config_model=ApprovalConfig,
    handles=lambda _: APPROVAL_HANDLES,
    # An edge without a handle runs after either decision.
    requires_handle=False,
    execute=execute,
    # No I/O: it may run inside the transaction that made it ready.
    inline=run,
)
