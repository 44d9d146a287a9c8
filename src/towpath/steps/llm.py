"""The `llm` step: an OpenAI-compatible chat completion, optionally JSON checked by a schema."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.validators import validator_for
from pydantic import BaseModel, Field, ValidationError, field_validator

from towpath.domain.json_schema import (
    check_schema,
    dangling_references,
    offline_validator,
    pattern_problems,
)
from towpath.domain.secrets import (
    DEFAULT_SECRET,
    LLM_API_KEY_SECRET,
    SECRET_NAME,
    SECRET_NAMING,
)
from towpath.steps.common import (
    DEFAULT_TIMEOUT_SECONDS,
    SINGLE_ATTEMPT,
    WHOLE_NUMBER,
    Retry,
    StepConfig,
    Text,
    Timeout,
)
from towpath.steps.execution import Completed, Failed
from towpath.steps.hiding import Hiding
from towpath.steps.http_call import ERROR_BODY_CHARS, parse_json, send
from towpath.steps.registry import StepType

# What the server's own key (TOWPATH_LLM_API_KEY) reads as wherever a step would show it.
SERVER_LLM_KEY = "TOWPATH_LLM_API_KEY"

if TYPE_CHECKING:
    from towpath.steps.execution import Outcome, StepContext


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
    problems = [f"at {path}: {problem}" for path, problem in pattern_problems(schema)]
    if problems:
        raise ValueError("; ".join(problems))
    try:
        check_schema(schema)
    except SchemaError as error:
        path = "/".join(str(part) for part in error.path) or "(root)"
        message = f"not a valid JSON Schema at {path}: {error.message}"
        raise ValueError(message) from error
    dangling = dangling_references(schema)
    if dangling:
        raise ValueError("; ".join(dangling))


class LlmConfig(StepConfig):
    """Sends a prompt to an OpenAI-compatible chat completion endpoint."""

    model: Text = Field(min_length=1, description="Model name, as the provider spells it.")
    prompt: Text = Field(min_length=1, description="User message; may be a template.")
    system: Text | None = Field(default=None, description="System message; may be a template.")
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Sampling temperature; unset uses the model's."
    )
    max_tokens: Annotated[int, Field(gt=0), WHOLE_NUMBER] | None = Field(
        default=None, description="Upper bound on tokens in the answer."
    )
    response_format: Literal["text", "json"] = Field(
        default="text", description='"json" parses the answer as JSON.'
    )
    json_schema: dict[str, Any] | None = Field(
        default=None,
        description=(
            'JSON Schema the answer must match; used with response_format "json". It must be'
            " a valid schema whose every $ref resolves inside it, which validation checks"
            " and this schema cannot."
        ),
    )
    api_key_secret: str | None = Field(
        default=None,
        pattern=SECRET_NAME.pattern,
        description=(
            f"Name of the workspace secret holding the API key; unset uses the secret"
            f" {LLM_API_KEY_SECRET}, else the server's key."
        ),
        json_schema_extra={SECRET_NAMING: True, DEFAULT_SECRET: LLM_API_KEY_SECRET},
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


class _Message(BaseModel):
    content: str | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class _ChatCompletion(BaseModel):
    """The part of an OpenAI-compatible answer the step reads; the rest is ignored."""

    model: str | None = None
    choices: list[_Choice] = Field(min_length=1)
    # Some servers leave usage out, or send null; the output then says None per count.
    usage: _Usage | None = None


# Models asked for JSON still often wrap it in a Markdown code fence.
_CODE_FENCE = re.compile(r"\A\s*```[\w-]*[ \t]*\n(?P<body>.*?)\s*```\s*\Z", re.DOTALL)


def _request_body(config: LlmConfig) -> dict[str, Any]:
    messages = [{"role": "system", "content": config.system}] if config.system else []
    messages.append({"role": "user", "content": config.prompt})
    body: dict[str, Any] = {"model": config.model, "messages": messages}
    if config.temperature is not None:
        body["temperature"] = config.temperature
    if config.max_tokens is not None:
        body["max_tokens"] = config.max_tokens
    if config.response_format == "json":
        body["response_format"] = {"type": "json_object"}
    return body


def _parse_answer(config: LlmConfig, text: str, finish_reason: str | None) -> Any:
    """The model's answer as JSON checked against `json_schema`; ValueError says what is wrong."""
    fenced = _CODE_FENCE.match(text)
    try:
        value = parse_json(fenced.group("body") if fenced else text)
    except (ValueError, RecursionError) as error:
        cut_off = " (it was cut off at max_tokens)" if finish_reason == "length" else ""
        excerpt = text[:200]
        raise ValueError(f"the model's answer is not valid JSON{cut_off}: {excerpt!r}") from error
    if config.json_schema is not None:
        validator = offline_validator(config.json_schema, check_formats=True)
        mismatch = best_match(validator.iter_errors(value))
        if mismatch is not None:
            path = "/".join(str(part) for part in mismatch.absolute_path) or "(root)"
            message = f"the model's answer does not match json_schema at {path}: {mismatch.message}"
            raise ValueError(message)
    return value


def _api_key(config: LlmConfig, context: StepContext) -> str | Failed:
    """The step's secret, else the workspace's default secret, else the server's key."""
    secrets = context.variables.get("secrets") or {}
    if config.api_key_secret is not None:
        found = secrets.get(config.api_key_secret)
        if found is None:
            message = f"config.api_key_secret: no secret named {config.api_key_secret!r}"
            return Failed(message, retryable=False)
        return str(found)
    default = secrets.get(LLM_API_KEY_SECRET)
    return str(default) if default is not None else context.services.llm_api_key


async def execute(config: LlmConfig, context: StepContext) -> Outcome:
    """Ask the model once; output its text (and JSON), the model, token usage, finish reason."""
    api_key = _api_key(config, context)
    if isinstance(api_key, Failed):
        return api_key
    if not api_key or api_key != context.services.llm_api_key:
        return await _ask(config, context, api_key)
    # The server's own key is no workspace secret the engine redacts: an endpoint that
    # repeats it must not show it to a workspace.
    hiding = Hiding({SERVER_LLM_KEY: api_key})
    return hiding.outcome(await _ask(config, hiding.context(context), api_key))


async def _ask(config: LlmConfig, context: StepContext, api_key: str) -> Outcome:
    services = context.services
    url = services.llm_base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    answer = await send(
        services.http,
        "POST",
        url,
        idempotency_key=context.idempotency_key,
        timeout_seconds=config.timeout,
        headers=headers,
        json_body=_request_body(config),
        log=context.log,
        breakers=context.services.breakers,
    )
    if isinstance(answer, Failed):
        return answer
    try:
        completion = _ChatCompletion.model_validate_json(answer.text)
    except ValidationError:
        # A wrong base URL, not a bad day of the model: another attempt would not help.
        message = f"{url} did not answer with a chat completion: {answer.text[:ERROR_BODY_CHARS]}"
        return Failed(message, kind="error", retryable=False)
    choice = completion.choices[0]
    text = choice.message.content or ""
    output: dict[str, Any] = {"text": text}
    if config.response_format == "json":
        try:
            output["json"] = _parse_answer(config, text, choice.finish_reason)
        except ValueError as error:
            # Sampling differs between attempts, so the next answer may well be right.
            return Failed(str(error), kind="error", retryable=True)
    output["model"] = completion.model or config.model
    output["usage"] = (completion.usage or _Usage()).model_dump()
    output["finish_reason"] = choice.finish_reason
    usage = output["usage"]
    context.log(
        "info",
        f"{output['model']}: {usage.get('prompt_tokens')} prompt and"
        f" {usage.get('completion_tokens')} completion tokens, finished by"
        f" {choice.finish_reason}",
    )
    return Completed(output)


STEP = StepType(
    type="llm",
    label="LLM",
    description="Chat completion from an OpenAI-compatible model, optionally as checked JSON.",
    icon="sparkles",
    category="ai",
    config_model=LlmConfig,
    execute=execute,
)
