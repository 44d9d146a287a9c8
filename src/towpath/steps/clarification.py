"""The `clarification` step: waits for a human to answer typed questions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from towpath.steps.common import StepConfig, Text, WaitTimeout
from towpath.steps.execution import Outcome, StepContext, Waiting
from towpath.steps.registry import StepType

if TYPE_CHECKING:
    from pydantic.config import JsonDict

# `choices` goes with the choice type, and only with it.
_CHOICES_IFF_CHOICE: JsonDict = {
    "if": {"properties": {"type": {"const": "choice"}}, "required": ["type"]},
    "then": {"properties": {"choices": {"type": "array"}}, "required": ["choices"]},
    "else": {"properties": {"choices": {"type": "null"}}},
}


class Question(StepConfig):
    """One question; its answer is kept under its id. A `choice` question lists its
    `choices`; other types have none."""

    model_config = ConfigDict(json_schema_extra=_CHOICES_IFF_CHOICE)

    id: str = Field(min_length=1, max_length=128, description="Key of the answer.")
    text: Text = Field(min_length=1, description="The question; may be a template.")
    required: bool = Field(default=True, description="Whether an answer must be given.")
    type: Literal["text", "number", "boolean", "choice"] = Field(
        default="text", description="Kind of answer expected."
    )
    choices: list[Annotated[Text, Field(min_length=1)]] | None = Field(
        default=None, min_length=1, description='Allowed answers; only, and always, for "choice".'
    )

    @model_validator(mode="after")
    def _choices_iff_choice(self) -> Self:
        if self.type == "choice" and self.choices is None:
            raise ValueError(f"question {self.id!r} is a choice and needs `choices`")
        if self.type != "choice" and self.choices is not None:
            raise ValueError(f"question {self.id!r} has `choices` but is of type {self.type!r}")
        return self


class ClarificationConfig(StepConfig):
    """Asks people one or more questions and waits for the answers."""

    questions: list[Question] = Field(
        min_length=1,
        description="The questions, in order; no two may share an id (a rule JSON Schema"
        " cannot express: validation checks it).",
    )
    timeout_seconds: WaitTimeout = None
    on_timeout: Literal["fail", "skip"] = Field(
        default="fail", description="Whether a timeout fails the step or skips it."
    )

    @field_validator("questions")
    @classmethod
    def _ids_unique(cls, questions: list[Question]) -> list[Question]:
        seen: set[str] = set()
        for question in questions:
            if question.id in seen:
                raise ValueError(f"question id {question.id!r} is used more than once")
            seen.add(question.id)
        return questions


def run(config: ClarificationConfig, context: StepContext) -> Outcome:
    questions = [question.model_dump(exclude_none=True) for question in config.questions]
    return Waiting({"questions": questions}, config.timeout_seconds)


async def execute(config: ClarificationConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="clarification",
    label="Clarification",
    description="Wait for a person to answer typed questions.",
    icon="message-circle-question",
    category="flow",
    config_model=ClarificationConfig,
    execute=execute,
    # No I/O: it may run inside the transaction that made it ready.
    inline=run,
)
