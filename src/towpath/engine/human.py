"""Answers to steps that wait for a person: approve or reject, clarify, resume."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.errors import Conflict, Unprocessable
from towpath.domain.forms import answers_problems, form_output
from towpath.domain.states import EventType, StepStatus
from towpath.engine.approvals import check_voter, vote
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
        if row.step_type == "approval":
            details["votes"] = (row.state or {}).get("votes") or []
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


def answer_questions(
    rt: RunTransaction, row: StepRow, prepared: PreparedWorkflow, answers: dict[str, Any], by: str
) -> dict[str, Any]:
    """Complete a clarification with `answers` when they keep every question's rules: its
    output is the answers, with the defaults of the questions left unanswered."""
    questions = (row.state or {}).get("questions", [])
    problems = answers_problems(questions, answers)
    if problems:
        raise AnswersInvalid(
            "some answers are missing or break their question's rules",
            details={"step_id": row.step_id, "errors": problems},
        )
    output = form_output(questions, answers)
    rt.emit("clarification.answered", row.step_id, answers=output, answered_by=by)
    rt.complete_step(row, output, None)
    return output


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
        check_voter(row, by, has_role, rt.run.created_by)
        rt.emit(EventType.STEP_RESUMED, row.step_id, resumed_by=by)
        # A rejection is a rejection however it arrives: it counts as a vote, as through
        # /approve.
        vote(rt, row, prepared, approved=approved, comment=comment, by=by, data=data)
        return
    if row.step_type == "clarification":
        rt.emit(EventType.STEP_RESUMED, row.step_id, resumed_by=by)
        answer_questions(rt, row, prepared, data, by)
        return
    rt.emit(EventType.STEP_RESUMED, row.step_id, resumed_by=by)
    rt.complete_step(row, data, None)
