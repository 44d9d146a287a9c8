from typing import Any

import pytest
from pydantic import ValidationError

from towpath.steps.clarification import ClarificationConfig


def test_full_config_parses() -> None:
    config = ClarificationConfig.model_validate(
        {
            "questions": [
                {"id": "size", "text": "Which size?", "type": "choice", "choices": ["S", "M"]},
                {"id": "qty", "text": "How many?", "type": "number", "required": False},
                {"id": "note", "text": "Anything else?"},
            ],
            "timeout_seconds": 86400,
            "on_timeout": "skip",
        }
    )
    size, qty, note = config.questions
    assert size.choices == ["S", "M"]
    assert qty.required is False
    assert (note.type, note.required, note.choices) == ("text", True, None)
    assert config.on_timeout == "skip"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"questions": []},
        {"questions": [{"id": "a"}]},
        {"questions": [{"text": "Why?"}]},
        {"questions": [{"id": "", "text": "Why?"}]},
        {"questions": [{"id": "a", "text": "Why?", "type": "colour"}]},
        {"questions": [{"id": "a", "text": "Why?", "required": "sometimes"}]},
        {"questions": [{"id": "a", "text": "Why?", "type": "choice", "choices": []}]},
        {"questions": [{"id": "a", "text": "Why?"}], "on_timeout": "approve"},
        {"questions": [{"id": "a", "text": "Why?"}], "timeout_seconds": -1},
    ],
)
def test_invalid_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ClarificationConfig.model_validate(config)


def test_choice_question_needs_choices() -> None:
    with pytest.raises(ValidationError, match="needs `choices`"):
        ClarificationConfig.model_validate(
            {"questions": [{"id": "size", "text": "Which size?", "type": "choice"}]}
        )


def test_choices_on_other_types_are_refused() -> None:
    with pytest.raises(ValidationError, match="has `choices`"):
        ClarificationConfig.model_validate(
            {"questions": [{"id": "qty", "text": "How many?", "choices": ["1", "2"]}]}
        )


def test_question_ids_must_be_unique() -> None:
    questions = [{"id": "a", "text": "First?"}, {"id": "a", "text": "Second?"}]
    with pytest.raises(ValidationError, match="'a' is used more than once"):
        ClarificationConfig.model_validate({"questions": questions})
