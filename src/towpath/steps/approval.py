"""The `approval` step: waits for people to approve or reject, by the rules in its config."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from towpath.steps.common import MAX_WAIT_SECONDS, WHOLE_NUMBER, StepConfig, Text, WaitTimeout
from towpath.steps.execution import Outcome, StepContext, Waiting
from towpath.steps.registry import StepType

APPROVAL_HANDLES = frozenset({"approved", "rejected"})

Principal = Annotated[Text, Field(min_length=1, max_length=300)]
Seconds = Annotated[int, Field(gt=0, le=MAX_WAIT_SECONDS), WHOLE_NUMBER]

PRINCIPALS = (
    "`role:<role>` (that role or a higher one), `key:<api key id>`, `user:<subject>` (or a"
    " bare JWT subject) or `group:<name>` (a member of a group named in `groups`, else of"
    " the workspace's group of that name, as it is when the step starts waiting)"
)


def finite_count(principals: list[str], groups: dict[str, list[str]]) -> int | None:
    """How many distinct principals may decide, or None when no number bounds it (anyone,
    a role, a template)."""
    if not principals:
        return None
    found: set[str] = set()
    for entry in principals:
        if entry.startswith("group:") and entry[6:] not in groups:
            return None  # a workspace group: its members are known when the step waits
        members = groups.get(entry[6:], []) if entry.startswith("group:") else [entry]
        for member in members:
            if member.startswith("role:") or "{{" in member or "{%" in member:
                return None
            found.add(member if ":" in member else f"user:{member}")
    return len(found)


def _check_names(principals: list[str], info: ValidationInfo) -> list[str]:
    # A group `groups` does not define is the workspace's group of that name.
    for entry in principals:
        if entry == "group:":
            raise ValueError("`group:` names no group")
    return principals


class ApprovalConfig(StepConfig):
    """Asks people to approve or reject, then leaves by `approved` or `rejected`."""

    message: Text = Field(min_length=1, description="What is asked; may be a template.")
    groups: dict[Annotated[str, Field(min_length=1, max_length=100)], list[Principal]] = Field(
        default_factory=dict,
        description=(
            "Named lists of principals that `approvers` and `escalate_to` may name as"
            " `group:<name>`; a member is a `role:`, `key:` or `user:` entry."
        ),
    )
    approvers: list[Principal] = Field(
        default_factory=list,
        description=(
            f"Who may decide: {PRINCIPALS}; anyone else gets 403. Empty lets anyone who"
            " may answer runs decide."
        ),
    )
    quorum: Annotated[int, Field(ge=1, le=1000), WHOLE_NUMBER] = Field(
        default=1,
        description=(
            "Approvals needed. It may not exceed the number of approvers when they are a"
            " finite list of users and keys."
        ),
    )
    rule: Literal["unanimous", "majority"] = Field(
        default="unanimous",
        description=(
            "`unanimous`: any rejection rejects, `quorum` approvals approve. `majority`:"
            " once `quorum` votes are in, more approvals than rejections approves, else"
            " the step is rejected."
        ),
    )
    allow_self_approval: bool | None = Field(
        default=None,
        description=(
            "Whether whoever started the run may decide (403 if not). Unset: refused when"
            " `approvers` names who decides, allowed when anyone may."
        ),
    )
    timeout_seconds: WaitTimeout = None
    on_timeout: Literal["fail", "approve", "reject", "escalate"] = Field(
        default="fail",
        description=(
            "What a timeout does: fail the step, approve, reject, or hand the decision to"
            " `escalate_to` for `escalate_timeout_seconds` (after which the step fails)."
        ),
    )
    escalate_to: list[Principal] | None = Field(
        default=None,
        validate_default=True,
        description=f"Who decides after an escalation ({PRINCIPALS}); only with `escalate`.",
    )
    escalate_timeout_seconds: Seconds | None = Field(
        default=None, description="Seconds the escalated decision may take; unset waits forever."
    )
    remind_before_seconds: list[Seconds] = Field(
        default_factory=list,
        max_length=20,
        description=(
            "An `approval.reminder` event this many seconds before the timeout, for each"
            " value; each must be below `timeout_seconds`."
        ),
    )

    @field_validator("groups")
    @classmethod
    def _groups_hold_principals(cls, groups: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, members in groups.items():
            if any(member.startswith("group:") for member in members):
                raise ValueError(f"group {name!r} names another group; list its members")
        return groups

    @field_validator("approvers")
    @classmethod
    def _approver_groups_defined(cls, approvers: list[str], info: ValidationInfo) -> list[str]:
        return _check_names(approvers, info)

    @field_validator("quorum")
    @classmethod
    def _quorum_reachable(cls, quorum: int, info: ValidationInfo) -> int:
        count = finite_count(info.data.get("approvers") or [], info.data.get("groups") or {})
        if count is not None and quorum > count:
            raise ValueError(f"a quorum of {quorum} is more than the {count} approvers listed")
        return quorum

    @field_validator("escalate_to")
    @classmethod
    def _escalation_given(cls, escalate_to: list[str] | None, info: ValidationInfo) -> Any:
        escalates = info.data.get("on_timeout") == "escalate"
        if escalates and not escalate_to:
            raise ValueError("`on_timeout: escalate` needs a non-empty `escalate_to`")
        if escalate_to is not None and not escalates:
            raise ValueError("`escalate_to` is only used with `on_timeout: escalate`")
        if escalates and info.data.get("timeout_seconds") is None:
            raise ValueError("`on_timeout: escalate` needs `timeout_seconds`")
        count = finite_count(escalate_to or [], info.data.get("groups") or {})
        quorum = info.data.get("quorum", 1)
        if count is not None and quorum > count:
            raise ValueError(f"a quorum of {quorum} is more than the {count} listed here")
        return _check_names(escalate_to or [], info) if escalate_to else escalate_to

    @field_validator("remind_before_seconds")
    @classmethod
    def _reminders_before_timeout(cls, seconds: list[int], info: ValidationInfo) -> list[int]:
        timeout = info.data.get("timeout_seconds")
        if seconds and timeout is None:
            raise ValueError("reminders need `timeout_seconds`")
        if any(s >= (timeout or 0) for s in seconds):
            raise ValueError(f"each reminder must come before the timeout ({timeout} s)")
        return sorted(set(seconds), reverse=True)


def run(config: ApprovalConfig, context: StepContext) -> Outcome:
    # The whole rule goes into the step's state: votes and timers are judged by it alone,
    # with its templates rendered once, when the step began to wait.
    request: dict[str, Any] = {
        "message": config.message,
        "approvers": config.approvers,
        "groups": config.groups,
        "quorum": config.quorum,
        "rule": config.rule,
        "allow_self_approval": (
            config.allow_self_approval
            if config.allow_self_approval is not None
            else not config.approvers
        ),
        "on_timeout": config.on_timeout,
        "votes": [],
    }
    wake = config.timeout_seconds
    if config.timeout_seconds is not None:
        deadline = context.now + timedelta(seconds=config.timeout_seconds)
        request["deadline_at"] = deadline.isoformat()
        request["reminders"] = [
            (deadline - timedelta(seconds=s)).isoformat() for s in config.remind_before_seconds
        ]
        # The engine wakes the step at its first reminder; the step's timer then sets the
        # next wake-up, up to the deadline.
        if config.remind_before_seconds:
            wake = config.timeout_seconds - config.remind_before_seconds[0]
    if config.on_timeout == "escalate":
        request["escalate_to"] = config.escalate_to
        request["escalate_timeout_seconds"] = config.escalate_timeout_seconds
    return Waiting(request, wake)


async def execute(config: ApprovalConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="approval",
    label="Approval",
    description=(
        "Wait for people to approve or reject: who may decide, how many must, no"
        " self-approval, a timeout with reminders and escalation."
    ),
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
