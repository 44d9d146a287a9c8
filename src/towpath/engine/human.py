"""Answers to steps that wait for a person: approve or reject, clarify, resume."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.errors import Conflict, Forbidden, Unprocessable
from towpath.domain.states import EventType, StepStatus
from towpath.engine.rows import WHOLE_STEP

if TYPE_CHECKING:
    from collections.abc import Callable

    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import StepRow


# Steps that wait on the engine itself (their items, their child run), not on a person.
ENGINE_WAITS = frozenset({"for_each", "sub_workflow"})


class NoWaitingStep(Conflict):
    code = "NO_WAITING_STEP"


class AnswersInvalid(Unprocessable):
    code = "ANSWERS_INVALID"


class DecisionInvalid(Unprocessable):
    code = "DECISION_INVALID"


class NotAnApprover(Forbidden):
    code = "NOT_AN_APPROVER"


def may_decide(approvers: list[str], subject: str, has_role: Callable[[str], bool]) -> bool:
    """Whether a caller is one of an approval's `approvers`: `role:<role>` (that role or a
    higher one), `key:<api key id>`, `user:<subject>`, or a bare JWT subject. No approvers
    means anyone who may answer runs."""
    if not approvers:
        return True
    for approver in approvers:
        kind, _, name = approver.partition(":")
        if kind == "role" and has_role(name):
            return True
        if approver == subject or f"user:{approver}" == subject:
            return True
    return False


def check_approver(row: StepRow, subject: str, has_role: Callable[[str], bool]) -> None:
    approvers = (row.state or {}).get("approvers") or []
    if not may_decide(approvers, subject, has_role):
        raise NotAnApprover(
            f"{subject} is not one of the approvers of step {row.step_id!r}",
            details={"step_id": row.step_id, "approvers": approvers, "caller": subject},
        )


def waiting_step(rt: RunTransaction, step_id: str | None, step_type: str | None) -> StepRow:
    """The step to answer: the one named, or the only one waiting. Steps that wait on the
    engine (their items, their child run) are never answered by hand."""
    # `status` is the run's, as in every other wrong-state answer.
    details: dict[str, Any] = {"status": rt.run.status}
    if step_id is not None:
        row = rt.step(step_id)
        if row is None:
            raise NoWaitingStep(f"step {step_id!r} has not run in this run", details=details)
        details.update(step_id=step_id, step_status=row.status, step_type=row.step_type)
        if row.step_type in ENGINE_WAITS:
            raise NoWaitingStep(
                f"step {step_id!r} is a {row.step_type}: it ends when its"
                f" {'items' if row.step_type == 'for_each' else 'child run'} end,"
                " not by an answer",
                details=details,
            )
        if row.status != StepStatus.WAITING or (step_type and row.step_type != step_type):
            raise NoWaitingStep(f"step {step_id!r} is not waiting for this answer", details=details)
        return row
    waiting = [
        row
        for (_, item), row in rt.steps.items()
        if item == WHOLE_STEP
        and row.status == StepStatus.WAITING
        and row.step_type not in ENGINE_WAITS
        and (step_type is None or row.step_type == step_type)
    ]
    if len(waiting) != 1:
        details["waiting_steps"] = sorted(row.step_id for row in waiting)
        what = f"{step_type} step" if step_type else "step"
        raise NoWaitingStep(
            f"{len(waiting)} {what}s are waiting; name one with step_id"
            if waiting
            else f"no {what} is waiting in this run",
            details=details,
        )
    return waiting[0]


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
    """Record a decision. `data`, given through /resume, joins the step's output, but who
    decided and when always come from the server."""
    output = {
        **(data or {}),
        "approved": approved,
        "comment": comment,
        "decided_by": decided_by,
        "decided_at": rt.now.isoformat(),
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


def answer_questions(
    rt: RunTransaction, row: StepRow, prepared: PreparedWorkflow, answers: dict[str, Any], by: str
) -> dict[str, Any]:
    questions = (row.state or {}).get("questions", [])
    problems = _answer_problems(questions, answers)
    if problems:
        raise AnswersInvalid(
            "some answers are missing or of the wrong type", details={"errors": problems}
        )
    rt.emit("clarification.answered", row.step_id, answers=answers, answered_by=by)
    rt.complete_step(row, answers, None)
    return answers


def _answer_problems(
    questions: list[dict[str, Any]], answers: dict[str, Any]
) -> list[dict[str, str]]:
    known = {q["id"] for q in questions}
    problems = [
        {"question": key, "message": "no such question"} for key in answers if key not in known
    ]
    for question in questions:
        qid = question["id"]
        if qid not in answers or answers[qid] is None:
            if question.get("required", True):
                problems.append({"question": qid, "message": "an answer is required"})
            continue
        problem = _type_problem(question, answers[qid])
        if problem:
            problems.append({"question": qid, "message": problem})
    return problems


def _type_problem(question: dict[str, Any], answer: Any) -> str | None:
    kind = question.get("type", "text")
    if kind == "text" and not isinstance(answer, str):
        return "expected text"
    if kind == "number" and (isinstance(answer, bool) or not isinstance(answer, int | float)):
        return "expected a number"
    if kind == "boolean" and not isinstance(answer, bool):
        return "expected true or false"
    if kind == "choice" and answer not in question.get("choices", []):
        return f"expected one of {question.get('choices', [])}"
    return None


def resume_step(
    rt: RunTransaction,
    row: StepRow,
    prepared: PreparedWorkflow,
    data: dict[str, Any],
    by: str,
    has_role: Callable[[str], bool],
) -> None:
    """Complete a waiting step with `data` as its output (the run's context[step_id]). An
    approval or a clarification is checked exactly as through /approve or /clarify."""
    if row.step_type == "approval":
        approved = data.get("approved", True)
        comment = data.get("comment")
        if not isinstance(approved, bool) or not (comment is None or isinstance(comment, str)):
            raise DecisionInvalid(
                "an approval's data has `approved` as true or false and `comment` as text",
                details={"step_id": row.step_id},
            )
        check_approver(row, by, has_role)
        rt.emit(EventType.STEP_RESUMED, row.step_id, resumed_by=by)
        # A rejection is a rejection however it arrives: it follows a `rejected` edge or
        # fails the run, as through /approve.
        decide_approval(
            rt, row, prepared, approved=approved, comment=comment, decided_by=by, data=data
        )
        return
    if row.step_type == "clarification":
        rt.emit(EventType.STEP_RESUMED, row.step_id, resumed_by=by)
        answer_questions(rt, row, prepared, data, by)
        return
    rt.emit(EventType.STEP_RESUMED, row.step_id, resumed_by=by)
    rt.complete_step(row, data, None)
