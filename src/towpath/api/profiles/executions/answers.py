"""The document's clarification answers are text (`Dict[str, str]`); a form's questions
may want numbers, booleans or lists. Each text is read as its question's type:

- `number`: a decimal number (`3`, `-2.5`, `1e3`); `integer`: a whole one (`3`, `3.0`);
- `boolean`: `true`/`false`, `yes`/`no`, `1`/`0` (any case);
- `multi_choice`: a JSON list of texts (`["a", "b"]`) or the options joined by commas
  (`a, b`; an option holding a comma needs the JSON list);
- `text`, `choice` (options are texts), `date` and a question the form does not have:
  the text as it is.

A text that is none of its type's forms is a 400 `INVALID_ANSWER` naming the question;
the form's own rules (bounds, required questions) are then checked as towpath's `/clarify`
checks them."""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

from towpath.domain.errors import InvalidRequest

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class InvalidAnswer(InvalidRequest):
    code = "INVALID_ANSWER"

    def __init__(self, question_id: str, answer: str, expected: str) -> None:
        super().__init__(
            f"the answer to {question_id!r} is not {expected}",
            details={"question_id": question_id, "answer": answer, "expected": expected},
        )


def typed_answers(answers: Mapping[str, str], questions: list[dict[str, Any]]) -> dict[str, Any]:
    """The answers as the questions' types want them; raises InvalidAnswer."""
    by_id = {q.get("id"): q for q in questions if isinstance(q, dict)}
    typed: dict[str, Any] = {}
    for question_id, text in answers.items():
        question = by_id.get(question_id, {})
        kind = question.get("type", "text")
        read, expected = _READERS.get(kind, (None, ""))
        if read is None:
            typed[question_id] = text
            continue
        value = read(text.strip(), question)
        if value is _UNREAD:
            raise InvalidAnswer(question_id, text, expected)
        typed[question_id] = value
    return typed


_UNREAD = object()


def _number(text: str, _: Mapping[str, Any]) -> Any:
    if not _NUMBER.match(text):
        return _UNREAD
    value = float(text)
    if not math.isfinite(value):
        return _UNREAD
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _integer(text: str, question: Mapping[str, Any]) -> Any:
    value = _number(text, question)
    return value if isinstance(value, int) else _UNREAD


def _boolean(text: str, _: Mapping[str, Any]) -> Any:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    return False if lowered in _FALSE else _UNREAD


def _multi_choice(text: str, _: Mapping[str, Any]) -> Any:
    if text.startswith("["):
        try:
            picked = json.loads(text)
        except json.JSONDecodeError:
            return _UNREAD
        if not isinstance(picked, list) or not all(isinstance(p, str) for p in picked):
            return _UNREAD
        return picked
    return [part.strip() for part in text.split(",") if part.strip()]


_READERS: dict[str, tuple[Callable[[str, Mapping[str, Any]], Any] | None, str]] = {
    "number": (_number, "a number"),
    "integer": (_integer, "a whole number"),
    "boolean": (_boolean, "true or false (or yes/no, 1/0)"),
    "multi_choice": (_multi_choice, "a JSON list or a comma-separated list of the options"),
}
