"""An approval's rules, kept: who may vote, one vote each, the quorum and the rule that
decide, and the timer's reminders, escalation and timeout."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from towpath.domain.errors import Conflict, Forbidden
from towpath.domain.states import StepStatus
from towpath.engine.sql import fetch

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction
    from towpath.steps.execution import Waiting
    from towpath.storage.rows import StepRow


class NotAnApprover(Forbidden):
    code = "NOT_AN_APPROVER"


class SelfApproval(Forbidden):
    code = "SELF_APPROVAL"


class AlreadyVoted(Conflict):
    code = "ALREADY_VOTED"


def may_decide(
    approvers: list[str],
    subject: str,
    has_role: Callable[[str], bool],
    groups: dict[str, list[str]] | None = None,
) -> bool:
    """Whether a caller is one of `approvers`: `role:<role>` (that role or a higher one),
    `key:<api key id>`, `user:<subject>`, a bare JWT subject, or `group:<name>` whose
    members are any of those. No approvers means anyone who may answer runs."""
    if not approvers:
        return True
    for approver in approvers:
        kind, _, name = approver.partition(":")
        if kind == "group":
            if may_decide((groups or {}).get(name) or [":"], subject, has_role):
                return True
        elif kind == "role":
            if has_role(name):
                return True
        elif approver == subject or f"user:{approver}" == subject:
            return True
    return False


def workspace_group_names(request: Mapping[str, Any]) -> list[str]:
    """The groups an approval names (as approvers, or to escalate to) that its own
    `groups` does not define: the workspace's groups of those names stand in."""
    defined = request.get("groups") or {}
    named = [*(request.get("approvers") or []), *(request.get("escalate_to") or [])]
    return sorted({e[6:] for e in named if e.startswith("group:") and e[6:] not in defined})


def with_workspace_groups(d: Dialect, workspace_id: str, waiting: Waiting) -> Gen[Waiting]:
    """The approval's request with the members of the workspace groups it names, read as
    it starts to wait. Like the rest of its rule, they are then kept in the step's state:
    votes, escalation and the inbox judge by them, and a group changed later applies to
    the approvals that start waiting after the change. A name that no group has stands
    for nobody (kept as an empty list, so the step shows why no one may decide)."""
    request = waiting.request
    names = workspace_group_names(request)
    if not names:
        return waiting
    rows = yield from fetch(
        "SELECT name, members FROM workspace_groups WHERE workspace_id = ? AND " + d.any_of("name"),
        workspace_id,
        d.ids(names),
    )
    found = {name: list(d.read_doc(members) or []) for name, members in rows}
    groups = {**{name: found.get(name, []) for name in names}, **(request.get("groups") or {})}
    resolved = {**request, "groups": groups, "workspace_groups": names}
    return replace(waiting, request=resolved)


def step_state(row: StepRow) -> dict[str, Any]:
    """Where an approval stands, as an error's details and the events show it."""
    state = row.state or {}
    return {
        "step_id": row.step_id,
        "step_status": row.status,
        "approvers": state.get("approvers") or [],
        "quorum": state.get("quorum", 1),
        "rule": state.get("rule", "unanimous"),
        "votes": state.get("votes") or [],
    }


def vote_refusal(
    state: Mapping[str, Any], subject: str, has_role: Callable[[str], bool], started_by: str | None
) -> str | None:
    """Why the caller may not vote on an approval in this state (`not_an_approver`,
    `self_approval`, `already_voted`), or None when it may."""
    if not may_decide(state.get("approvers") or [], subject, has_role, state.get("groups")):
        return "not_an_approver"
    if not state.get("allow_self_approval", True) and started_by == subject:
        return "self_approval"
    if any(vote["by"] == subject for vote in state.get("votes") or []):
        return "already_voted"
    return None


def check_voter(
    row: StepRow, subject: str, has_role: Callable[[str], bool], started_by: str | None
) -> None:
    """Refuse a caller the step's rules do not let decide (403) or who voted already (409)."""
    refusal = vote_refusal(row.state or {}, subject, has_role, started_by)
    details = {**step_state(row), "caller": subject}
    if refusal == "not_an_approver":
        raise NotAnApprover(
            f"{subject} is not one of the approvers of step {row.step_id!r}", details=details
        )
    if refusal == "self_approval":
        raise SelfApproval(
            f"{subject} started this run and may not decide step {row.step_id!r}",
            details=details,
        )
    if refusal == "already_voted":
        raise AlreadyVoted(f"{subject} has voted on step {row.step_id!r} already", details=details)


def vote(
    rt: RunTransaction,
    row: StepRow,
    prepared: PreparedWorkflow,
    *,
    approved: bool,
    comment: str | None,
    by: str,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Record one vote, and decide the step once its quorum and rule say so."""
    state = row.state or {}
    ballot = {"by": by, "approved": approved, "comment": comment, "at": rt.now.isoformat()}
    votes = [*(state.get("votes") or []), ballot]
    row.state = {**state, "votes": votes}
    approvals = sum(1 for v in votes if v["approved"])
    rejections = len(votes) - approvals
    quorum = state.get("quorum", 1)
    rt.emit(
        "approval.vote",
        row.step_id,
        **ballot,
        approvals=approvals,
        rejections=rejections,
        quorum=quorum,
    )
    if state.get("rule") == "majority":
        outcome = approvals > rejections if len(votes) >= quorum else None
    else:
        outcome = False if not approved else (True if approvals >= quorum else None)
    if outcome is None:
        return {"approved": None, "votes": votes}
    return decide_approval(
        rt, row, prepared, approved=outcome, comment=comment, decided_by=by, data=data
    )


def decide_approval(
    rt: RunTransaction,
    row: StepRow,
    prepared: PreparedWorkflow,
    *,
    approved: bool,
    comment: str | None,
    decided_by: str,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """End the step approved or rejected. `data`, given through /resume, joins the step's
    output, but who decided and when always come from the server."""
    output = {
        **(data or {}),
        "approved": approved,
        "comment": comment,
        "decided_by": decided_by,
        "decided_at": rt.now.isoformat(),
        "votes": (row.state or {}).get("votes") or [],
    }
    rt.emit("approval.approved" if approved else "approval.rejected", row.step_id, **output)
    has_rejected_edge = any(
        edge.source == row.step_id and edge.sourceHandle == "rejected"
        for edge in prepared.graph.graph.edges
    )
    if approved or has_rejected_edge:
        rt.complete_step(row, output, "approved" if approved else "rejected")
    else:
        row.output = output
        row.error = f"rejected by {decided_by}" + (f": {comment}" if comment else "")
        rt.set_step_status(row, StepStatus.FAILED, error=row.error, kind="rejected")
    return output


def approval_due(
    rt: RunTransaction, row: StepRow, prepared: PreparedWorkflow, on_timeout: str, now: datetime
) -> bool:
    """The timer woke a waiting approval at `now` (the timer's clock): send the reminders
    due, or apply its timeout. Whether the step ended (a reminder or an escalation leaves
    it waiting)."""
    state = row.state or {}
    deadline = _time(state.get("deadline_at"))
    if deadline is not None and now < deadline:
        sent = set(state.get("reminded") or [])
        for due in state.get("reminders") or []:
            if due not in sent and _after(now, due):
                sent.add(due)
                left = (deadline - now).total_seconds()
                rt.emit(
                    "approval.reminder",
                    row.step_id,
                    deadline_at=deadline.isoformat(),
                    seconds_left=round(left),
                    **_tally(state),
                )
        upcoming = [t for r in state.get("reminders") or [] if (t := _time(r)) and t > now]
        row.state = {**state, "reminded": sorted(sent)}
        row.available_at = min([*upcoming, deadline])
        return False
    on_timeout = state.get("on_timeout", on_timeout)
    if on_timeout == "escalate" and not state.get("escalated"):
        seconds = state.get("escalate_timeout_seconds")
        until = now + timedelta(seconds=seconds) if seconds else None
        row.state = {
            **state,
            "approvers": state.get("escalate_to") or [],
            "escalated": True,
            "on_timeout": "fail",
            "deadline_at": until.isoformat() if until else None,
            "reminders": [],
        }
        row.available_at = until
        rt.emit(
            "approval.escalated",
            row.step_id,
            approvers=row.state["approvers"],
            deadline_at=row.state["deadline_at"],
        )
        return False
    if on_timeout in ("approve", "reject"):
        decide_approval(
            rt,
            row,
            prepared,
            approved=on_timeout == "approve",
            comment="decided by timeout",
            decided_by="timeout",
        )
        return True
    row.error = "no answer within the step's timeout (approval)"
    rt.set_step_status(row, StepStatus.FAILED, error=row.error, kind="timeout")
    return True


def _tally(state: dict[str, Any]) -> dict[str, Any]:
    votes = state.get("votes") or []
    approvals = sum(1 for v in votes if v["approved"])
    return {
        "approvers": state.get("approvers") or [],
        "quorum": state.get("quorum", 1),
        "approvals": approvals,
        "rejections": len(votes) - approvals,
    }


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _after(now: datetime, value: str) -> bool:
    at = _time(value)
    return at is not None and at <= now
