"""A webhook's body as a run input: JSON, form-encoded or text, then the optional transform."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from towpath.domain.errors import InvalidRequest, Unprocessable
from towpath.domain.json_data import json_body_problem
from towpath.domain.template_sandbox import RenderCapReached, TemplateLimitExceeded
from towpath.domain.templates import TemplateError, referenced_names, render_value, template_strings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towpath.domain.json_data import DataProblem

# What a transform's templates may name.
TRANSFORM_NAMES = frozenset({"body", "headers"})
# Headers a transform never sees: they carry credentials, not data.
_HIDDEN_HEADERS = frozenset({"authorization", "cookie", "x-api-key"})


class WebhookBodyUnreadable(InvalidRequest):
    code = "WEBHOOK_BODY_UNREADABLE"


class WebhookBodyUnstorable(Unprocessable):
    """A JSON body no database can store (`domain.json_data`): answered as any route
    answers one, and logged with the problem's kind as the reason."""

    code = "VALIDATION_ERROR"

    def __init__(self, problem: DataProblem) -> None:
        super().__init__(problem.message, details=problem.details())
        self.reason = problem.kind


def check_storable(body: bytes, content_type: str) -> None:
    if _is_json(_media_type(content_type)):
        problem = json_body_problem(body)
        if problem is not None:
            raise WebhookBodyUnstorable(problem)


class TransformFailed(Unprocessable):
    code = "WEBHOOK_TRANSFORM_FAILED"

    def __init__(self, message: str) -> None:
        super().__init__(f"the webhook's input transform failed: {message}")


class TransformInvalid(Unprocessable):
    code = "WEBHOOK_TRANSFORM_INVALID"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(
            f"the input transform has {len(errors)} error(s)", details={"errors": errors}
        )


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def parsed_body(body: bytes, content_type: str) -> Any:
    """The body as data: JSON by its content type, a form's fields (a repeated field is a
    list), or else the text itself."""
    media_type = _media_type(content_type)
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise WebhookBodyUnreadable("the webhook body is not UTF-8 text") from exc
    if _is_json(media_type):
        # A JSON body was already held to the API's text rules (`RequestDataMiddleware`).
        try:
            return json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise WebhookBodyUnreadable("the webhook body is not valid JSON") from exc
    if media_type == "application/x-www-form-urlencoded":
        fields: dict[str, Any] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            _refuse_nul(name + value)
            if name in fields:
                earlier = fields[name]
                fields[name] = [*earlier, value] if isinstance(earlier, list) else [earlier, value]
            else:
                fields[name] = value
        return fields
    _refuse_nul(text)
    return text


def _refuse_nul(text: str) -> None:
    # No database stores it in a JSON document.
    if "\x00" in text:
        raise WebhookBodyUnreadable("the webhook body holds a NUL character, which text may not")


def run_input(parsed: Any) -> dict[str, Any]:
    """Without a transform: a JSON object or a form is the input; anything else (text, a
    list, a number) is `{"body": …}`."""
    return parsed if isinstance(parsed, dict) else {"body": parsed}


def visible_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in _HIDDEN_HEADERS}


def check_transform(transform: Any) -> None:
    """A transform is a JSON object whose templates name only `body` and `headers`."""
    if not isinstance(transform, dict):
        raise TransformInvalid([{"path": "/", "message": "a transform is a JSON object"}])
    errors = []
    for path, text in template_strings(transform):
        try:
            unknown = referenced_names(text) - TRANSFORM_NAMES
        except TemplateError as exc:
            errors.append({"path": path or "/", "message": str(exc)})
            continue
        if unknown:
            names = ", ".join(sorted(unknown))
            errors.append(
                {"path": path or "/", "message": f"names {names}; only body and headers exist"}
            )
    if errors:
        raise TransformInvalid(errors)


def transformed(transform: Any, parsed: Any, headers: Mapping[str, str]) -> dict[str, Any]:
    """The run input the transform builds from the body and the headers."""
    context = {"body": parsed, "headers": visible_headers(headers)}
    try:
        value = render_value(transform, context)
    except (TemplateError, TemplateLimitExceeded, RenderCapReached) as exc:
        raise TransformFailed(str(exc)) from exc
    if not isinstance(value, dict):
        raise TransformFailed("it did not make a JSON object")
    return value
