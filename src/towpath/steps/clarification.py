"""The `clarification` step: waits for a human to fill in a form of typed questions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import (
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)

from towpath.domain.forms import CHOICE_TYPES, DATE_SHAPE, answer_problem, as_date, options
from towpath.domain.schema_patterns import pattern_problem
from towpath.domain.step_spec import is_as_written
from towpath.steps.common import WHOLE_NUMBER, StepConfig, Text, WaitTimeout, exactly_one_of
from towpath.steps.execution import Outcome, StepContext, Waiting
from towpath.steps.registry import StepType

if TYPE_CHECKING:
    from pydantic.config import JsonDict

QuestionType = Literal["text", "number", "integer", "boolean", "choice", "multi_choice", "date"]
_NUMERIC = ("number", "integer")
_NULL: JsonDict = {"type": "null"}
_DATE_OR_TEMPLATE = rf"{DATE_SHAPE}|\{{\{{"


def _of_type(*types: str) -> JsonDict:
    """JSON Schema for "the question is of one of these types" (no type means text)."""
    given: JsonDict = {"required": ["type"], "properties": {"type": {"enum": list(types)}}}
    return {"anyOf": [given, {"not": {"required": ["type"]}}]} if "text" in types else given


def _only_for(types: tuple[str, ...], *fields: str) -> JsonDict:
    return {"if": {"not": _of_type(*types)}, "then": {"properties": dict.fromkeys(fields, _NULL)}}


def _when(types: tuple[str, ...], properties: JsonDict) -> JsonDict:
    return {"if": _of_type(*types), "then": {"properties": properties}}


def _or_null(schema: JsonDict) -> JsonDict:
    return {"anyOf": [schema, _NULL]}


_DATE_BOUND = _or_null({"type": "string", "pattern": DATE_SHAPE})
_NUMBER_BOUND = _or_null({"type": "number"})
_TEXT_DEFAULT = _or_null({"type": "string"})

# Which fields go with which type, and what a default and the bounds are for each: the
# rules a form needs; those between two values (min above max, a default outside the
# options) are checked by validation, as JSON Schema cannot say them.
_FORM_RULES: JsonDict = {
    "allOf": [
        {
            "if": _of_type(*CHOICE_TYPES),
            "then": exactly_one_of("options", "choices"),
            "else": {"properties": {"options": _NULL, "choices": _NULL}},
        },
        _only_for(("text",), "min_length", "max_length", "pattern"),
        _only_for(("multi_choice",), "min_selections", "max_selections"),
        _only_for((*_NUMERIC, "date"), "min", "max"),
        _when(_NUMERIC, {"min": _NUMBER_BOUND, "max": _NUMBER_BOUND}),
        _when(("date",), {"min": _DATE_BOUND, "max": _DATE_BOUND}),
        _when(("text", "choice"), {"default": _TEXT_DEFAULT}),
        _when(("number",), {"default": _NUMBER_BOUND}),
        _when(("integer",), {"default": _or_null({"type": "integer"})}),
        _when(("boolean",), {"default": _or_null({"type": "boolean"})}),
        _when(
            ("multi_choice",),
            {"default": _or_null({"type": "array", "items": {"type": "string"}})},
        ),
        _when(
            ("date",),
            {"default": _or_null({"type": "string", "pattern": _DATE_OR_TEMPLATE})},
        ),
    ]
}

Count = Annotated[Annotated[int, Field(ge=0), WHOLE_NUMBER] | None, Field(default=None)]
Option = Annotated[Text, Field(min_length=1)]
Options = Annotated[list[Option] | None, Field(default=None, min_length=1)]
Bound = Annotated[int | float | str | None, Field(default=None)]

# Fields each type may have beyond the common ones.
_TYPE_FIELDS = {
    "text": ("min_length", "max_length", "pattern"),
    "number": ("min", "max"),
    "integer": ("min", "max"),
    "date": ("min", "max"),
    "multi_choice": ("min_selections", "max_selections"),
}
_SPECIFIC = (
    "min",
    "max",
    "min_length",
    "max_length",
    "pattern",
    "min_selections",
    "max_selections",
)
_PAIRS = (("min", "max"), ("min_length", "max_length"), ("min_selections", "max_selections"))


def _templated(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


class Question(StepConfig):
    """One question of the form; its answer is kept under its id. `choice` (one answer) and
    `multi_choice` (a list of distinct answers) list their `options`; `date` answers are
    ISO 8601 dates, YYYY-MM-DD."""

    model_config = ConfigDict(json_schema_extra=_FORM_RULES)

    id: str = Field(min_length=1, max_length=128, description="Key of the answer.")
    text: Text = Field(min_length=1, description="The question; may be a template.")
    required: bool = Field(
        default=True,
        description="Whether an answer must be given; a required question with a `default`"
        " still needs one (the default is what the form shows first).",
    )
    type: QuestionType = Field(default="text", description="Kind of answer expected.")
    options: Options = Field(
        description='Allowed answers; only, and always, for "choice" and "multi_choice"'
        " (give this or `choices`)."
    )
    choices: Options = Field(description="The older name of `options`; give one of the two.")
    default: JsonValue = Field(
        default=None,
        description="The answer an optional question left unanswered gets, and the form's"
        " starting value; it must keep the question's own rules.",
    )
    min: Bound = Field(
        description='Lowest answer allowed: a number for "number" and "integer", a'
        ' YYYY-MM-DD date for "date".'
    )
    max: Bound = Field(
        description='Highest answer allowed: a number for "number" and "integer", a'
        ' YYYY-MM-DD date for "date".'
    )
    min_length: Count = Field(description='Fewest characters of a "text" answer.')
    max_length: Count = Field(description='Most characters of a "text" answer.')
    pattern: str | None = Field(
        default=None,
        min_length=1,
        max_length=1_000,
        description='A regular expression a "text" answer must match somewhere (anchor it'
        " with ^ and $ to match the whole answer), as JSON Schema's `pattern`; RE2 syntax:"
        " no backreferences, lookahead or lookbehind.",
    )
    min_selections: Count = Field(description='Fewest options a "multi_choice" answer picks.')
    max_selections: Count = Field(description='Most options a "multi_choice" answer picks.')

    @model_validator(mode="after")
    def _keeps_its_rules(self, info: ValidationInfo) -> Self:
        problems = [*self._shape_problems(), *self._default_problems(info)]
        if problems:
            raise ValueError(f"question {self.id!r}: " + "; ".join(problems))
        return self

    def _shape_problems(self) -> list[str]:
        problems: list[str] = []
        picks = self.type in CHOICE_TYPES
        if picks and self.options is None and self.choices is None:
            problems.append(f"it is a {self.type} and needs `choices` or `options`")
        if self.options is not None and self.choices is not None:
            problems.append("give `options` or `choices`, not both")
        for name in ("options", "choices"):
            if not picks and getattr(self, name) is not None:
                problems.append(f"it has `{name}` but is of type {self.type!r}")
        listed = self.options or self.choices or []
        problems += [f"option {o!r} is listed more than once" for o in _repeated(listed)]
        allowed = _TYPE_FIELDS.get(self.type, ())
        for name in _SPECIFIC:
            if getattr(self, name) is not None and name not in allowed:
                problems.append(f"a {self.type} question cannot have `{name}`")
        problems += self._bound_problems()
        if self.pattern is not None and (problem := pattern_problem(self.pattern)) is not None:
            problems.append(f"`pattern` {problem}")
        fewest = self.min_selections
        if picks and fewest is not None and listed and fewest > len(listed):
            problems.append(f"`min_selections` ({fewest}) is more than its {len(listed)} options")
        return problems

    def _bound_problems(self) -> list[str]:
        problems: list[str] = []
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is None or self.type not in (*_NUMERIC, "date"):
                continue
            if self.type == "date" and as_date(value) is None:
                problems.append(f"`{name}` must be a date as YYYY-MM-DD, not {value!r}")
            elif self.type in _NUMERIC and not isinstance(value, int | float):
                problems.append(f"`{name}` must be a number, not {value!r}")
        if problems:
            return problems
        for low, high in _PAIRS:
            lowest, highest = getattr(self, low), getattr(self, high)
            if self.type == "date":
                lowest, highest = as_date(lowest), as_date(highest)
            if lowest is not None and highest is not None and lowest > highest:
                problems.append(f"`{low}` ({lowest}) is above `{high}` ({highest})")
        return problems

    def _default_problems(self, info: ValidationInfo) -> list[str]:
        if self.default is None:
            return []
        if is_as_written(info.context) and (
            _templated(self.default)
            or any(_templated(option) for option in self.options or self.choices or [])
        ):
            # Checked once the templates are rendered, when the step runs.
            return []
        problem = answer_problem(self.model_dump(exclude_none=True), self.default)
        return [f"the default {self.default!r} is refused: {problem}"] if problem else []

    def asked(self) -> dict[str, Any]:
        """The question as the waiting step shows it: a choice's options under both names,
        so clients reading `choices` and those reading `options` both find them."""
        asked = self.model_dump(exclude_none=True)
        if self.type in CHOICE_TYPES:
            asked["options"] = asked["choices"] = options(asked)
        return asked


def _repeated(listed: list[str]) -> list[str]:
    return [option for index, option in enumerate(listed) if option in listed[:index]]


class ClarificationConfig(StepConfig):
    """Asks people a form of one or more questions and waits for the answers."""

    questions: list[Question] = Field(
        min_length=1,
        description="The questions, in order; no two may share an id, a bound may not be"
        " above its upper bound and a default keeps its question's rules (rules JSON Schema"
        " cannot express: validation checks them).",
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
    return Waiting(
        {"questions": [question.asked() for question in config.questions]}, config.timeout_seconds
    )


async def execute(config: ClarificationConfig, context: StepContext) -> Outcome:
    return run(config, context)


STEP = StepType(
    type="clarification",
    label="Clarification",
    description="Wait for a person to fill in a form of typed questions.",
    icon="message-circle-question",
    category="flow",
    config_model=ClarificationConfig,
    execute=execute,
    # No I/O: it may run inside the transaction that made it ready.
    inline=run,
)
