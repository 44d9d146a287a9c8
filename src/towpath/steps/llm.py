"""The `llm` step: an OpenAI-compatible chat completion, optionally JSON checked by a schema."""

from __future__ import annotations

from typing import Any, Literal

from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from pydantic import BaseModel, ConfigDict, Field, field_validator

from towpath.steps.common import DEFAULT_TIMEOUT_SECONDS, SINGLE_ATTEMPT, Retry, Timeout
from towpath.steps.registry import StepType


def check_json_schema(schema: dict[str, Any]) -> None:
    """Raise ValueError unless `schema` is a JSON Schema of a dialect jsonschema knows."""
    if "$schema" in schema:
        dialect = schema["$schema"]
        if not isinstance(dialect, str):
            raise ValueError("`$schema` must be a string")
        # validator_for falls back to its default for an unknown dialect (with a warning
        # when no default is given), so two different defaults reveal an unknown one.
        known = validator_for(schema, default=Draft4Validator)
        if known is not validator_for(schema, default=Draft202012Validator):
            raise ValueError(f"unknown `$schema` dialect {dialect!r}")
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as error:
        path = "/".join(str(part) for part in error.path) or "(root)"
        message = f"not a valid JSON Schema at {path}: {error.message}"
        raise ValueError(message) from error


class LlmConfig(BaseModel):
    """Sends a prompt to an OpenAI-compatible chat completion endpoint."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="Model name, as the provider spells it.")
    prompt: str = Field(min_length=1, description="User message; may be a template.")
    system: str | None = Field(default=None, description="System message; may be a template.")
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Sampling temperature; unset uses the model's."
    )
    max_tokens: int | None = Field(
        default=None, gt=0, description="Upper bound on tokens in the answer."
    )
    response_format: Literal["text", "json"] = Field(
        default="text", description='"json" parses the answer as JSON.'
    )
    json_schema: dict[str, Any] | None = Field(
        default=None,
        description='JSON Schema the answer must match; used with response_format "json".',
    )
    timeout: Timeout = DEFAULT_TIMEOUT_SECONDS
    retry: Retry = SINGLE_ATTEMPT

    # A field validator, not a model one, so the error's location names `json_schema`.
    @field_validator("json_schema")
    @classmethod
    def _json_schema_is_valid(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            check_json_schema(schema)
        return schema


STEP = StepType(
    type="llm",
    label="LLM",
    description="Chat completion from an OpenAI-compatible model, optionally as checked JSON.",
    icon="sparkles",
    category="ai",
    config_model=LlmConfig,
)
