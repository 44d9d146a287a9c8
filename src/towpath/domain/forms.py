"""Clarification forms: whether an answer keeps its question's rules, and the answers a
step outputs. Questions are read as a waiting step keeps them (plain JSON), so a request
saved before a rule existed is still checked by the rules it was asked with."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from towpath.domain.schema_patterns import search

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

QUESTION_TYPES = ("text", "number", "integer", "boolean", "choice", "multi_choice", "date")
# The question types answered by picking among `options`.
CHOICE_TYPES = ("choice", "multi_choice")
# Dates as ISO 8601 calendar dates, no time: 2026-11-28.
DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE = re.compile(DATE_SHAPE)


def options(question: Mapping[str, Any]) -> list[Any]:
    """A choice question's options, under either of the names a question may give them."""
    found = question.get("options")
    if found is None:
        found = question.get("choices")
    return list(found or [])


def as_date(value: Any) -> date | None:
    """`value` as a calendar date when it is one written YYYY-MM-DD, else None."""
    if not isinstance(value, str) or _DATE.match(value) is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _outside(value: Any, low: Any, high: Any, at_least: str, at_most: str) -> str | None:
    """`at_least` or `at_most`, given the bound, when `value` is below `low` or above `high`
    (a None bound does not bind)."""
    if low is not None and value < low:
        return at_least.format(low)
    if high is not None and value > high:
        return at_most.format(high)
    return None


def _bounds_problem(question: Mapping[str, Any], value: Any) -> str | None:
    low, high = question.get("min"), question.get("max")
    return _outside(value, low, high, "expected at least {}", "expected at most {}")


def _text_problem(question: Mapping[str, Any], answer: Any) -> str | None:
    if not isinstance(answer, str):
        return "expected text"
    shortest, longest = question.get("min_length"), question.get("max_length")
    length = _outside(
        len(answer),
        shortest,
        longest,
        "expected at least {} characters",
        "expected at most {} characters",
    )
    if length:
        return length
    pattern = question.get("pattern")
    # RE2 matches in time linear in the answer, whatever the pattern.
    if pattern is not None and not search(pattern, answer):
        return f"does not match the pattern {pattern!r}"
    return None


def _number_problem(question: Mapping[str, Any], answer: Any) -> str | None:
    if not _is_number(answer):
        return "expected a number"
    return _bounds_problem(question, answer)


def _integer_problem(question: Mapping[str, Any], answer: Any) -> str | None:
    # JSON does not tell 3 from 3.0: both are the whole number 3.
    if not _is_number(answer) or (isinstance(answer, float) and not answer.is_integer()):
        return "expected a whole number"
    return _bounds_problem(question, answer)


def _date_problem(question: Mapping[str, Any], answer: Any) -> str | None:
    day = as_date(answer)
    if day is None:
        return "expected a date as YYYY-MM-DD"
    earliest, latest = as_date(question.get("min")), as_date(question.get("max"))
    return _outside(day, earliest, latest, "expected {} or later", "expected {} or earlier")


def _choice_problem(question: Mapping[str, Any], answer: Any) -> str | None:
    allowed = options(question)
    return None if answer in allowed else f"expected one of {allowed}"


def _multi_choice_problem(question: Mapping[str, Any], answer: Any) -> str | None:
    if not isinstance(answer, list):
        return "expected a list of options"
    allowed = options(question)
    for index, picked in enumerate(answer):
        if picked not in allowed:
            return f"{picked!r} is not one of {allowed}"
        if picked in answer[:index]:
            return f"{picked!r} is chosen more than once"
    fewest, most = question.get("min_selections"), question.get("max_selections")
    return _outside(
        len(answer),
        fewest,
        most,
        "expected at least {} of the options",
        "expected at most {} of the options",
    )


def _boolean_problem(question: Mapping[str, Any], answer: Any) -> str | None:
    return None if isinstance(answer, bool) else "expected true or false"


_CHECKS = {
    "text": _text_problem,
    "number": _number_problem,
    "integer": _integer_problem,
    "boolean": _boolean_problem,
    "choice": _choice_problem,
    "multi_choice": _multi_choice_problem,
    "date": _date_problem,
}


def answer_problem(question: Mapping[str, Any], answer: Any) -> str | None:
    """Why `answer` (not None) does not answer `question`, or None when it does."""
    return _CHECKS.get(question.get("type", "text"), _text_problem)(question, answer)


def answers_problems(
    questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]
) -> list[dict[str, str]]:
    """Every problem of `answers`, each naming its question: unknown questions first, then
    the questions in order. A null answer is no answer."""
    known = {q["id"] for q in questions}
    problems = [
        {"question": key, "message": "no such question"} for key in answers if key not in known
    ]
    for question in questions:
        qid = question["id"]
        if answers.get(qid) is None:
            if question.get("required", True):
                problems.append({"question": qid, "message": "an answer is required"})
            continue
        problem = answer_problem(question, answers[qid])
        if problem:
            problems.append({"question": qid, "message": problem})
    return problems


def form_output(
    questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]
) -> dict[str, Any]:
    """What the step outputs for answers that passed `answers_problems`: each answer under
    its question's id (a whole number as an integer), and the default of each question left
    unanswered that has one."""
    output: dict[str, Any] = {}
    for question in questions:
        qid = question["id"]
        value = answers.get(qid)
        if value is None:
            value = question.get("default")
        if value is None:
            continue
        if question.get("type") == "integer" and isinstance(value, float):
            value = int(value)
        output[qid] = value
    return output
