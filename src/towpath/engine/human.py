"""Answers to steps that wait for a person: approve or reject, clarify, resume."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.errors import Conflict, Unprocessable
from towpath.engine.rows import WHOLE_STEP

if TYPE_CHECKING:
    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.rows import StepRow
    from towpath.engine.transition import RunTransaction


# Steps that wait on the engine itself (their items, their child run), not on a person.
ENGINE_WAITS = frozenset({"for_each", "sub_workflow"})


class NoWaitingStep(Conflict):
    code = "NO_WAITING_STEP"


class AnswersInvalid(Unprocessable):
    code = "ANSWERS_INVALID"


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
        if row.status != "waiting" or (step_type and row.step_type != step_type):
            raise NoWaitingStep(f"step {step_id!r} is not waiting for this answer", details=details)
        return row
    waiting = [
        row
        for (_, item), row in rt.steps.items()
        if item == WHOLE_STEP
        and row.status == "waiting"
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
) -> dict[str, Any]:
    output = {
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
        rt.set_step_status(row, "failed", error=row.error, kind="rejected")
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
    rt: RunTransaction, row: StepRow, prepared: PreparedWorkflow, data: dict[str, Any], by: str
) -> None:
    """Complete a waiting step with `data` as its output (the run's context[step_id])."""
    rt.emit("step.resumed", row.step_id, resumed_by=by)
    if row.step_type == "approval" and data.get("approved", True) is False:
        # A rejection is a rejection however it arrives: it follows a `rejected` edge or
        # fails the run, as through /approve; the data given is the step's output.
        decide_approval(
            rt,
            row,
            prepared,
            approved=False,
            comment=data.get("comment") if isinstance(data.get("comment"), str) else None,
            decided_by=by,
        )
        if row.status == "completed":
            row.output = data
        return
    rt.complete_step(row, data, "approved" if row.step_type == "approval" else None)
