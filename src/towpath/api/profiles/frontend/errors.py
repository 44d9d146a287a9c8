"""The document's error bodies on its front end's paths: "Error responses use FastAPI's
HTTPException", so a body carries `detail` (the message, or a 422's list of problems) as
FastAPI's does, beside towpath's envelope for clients that read that."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field

from towpath.api.errors import envelope, headers_of, status_of
from towpath.api.profiles.routing import ProfileRoute
from towpath.api.schemas.errors import ErrorResponse, Responses, errors

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from towpath.domain.errors import TowpathError


class DetailedError(ErrorResponse):
    """FastAPI's `{"detail": ...}` with towpath's error envelope."""

    detail: str | list[dict[str, Any]] = Field(
        default="",
        description="The message, or a 422's problems; left out only from a 422 for text"
        " holding a NUL character, which is refused before the route reads the request",
    )


def detailed(*statuses: int) -> Responses:
    """`errors(...)` with the document's body."""
    documented = errors(*statuses).items()
    return {status: {**meaning, "model": DetailedError} for status, meaning in documented}


class FrontendRoute(ProfileRoute):
    """Answers every error the route raises with `detail` added to the envelope."""

    async def invalid(self, request: Request, error: RequestValidationError) -> Response:
        handle = request.app.exception_handlers[RequestValidationError]
        return _with_detail(await handle(request, error))

    def refused(self, error: TowpathError) -> Response:
        code, message, details = error.code, error.message, error.details
        return _with_detail(envelope(status_of(error), code, message, details, headers_of(error)))


def _with_detail(answered: Response) -> Response:
    body = json.loads(bytes(answered.body))
    problems = body.get("details", {}).get("errors")
    # FastAPI's 422 lists the problems; its HTTPException says one message.
    detail = problems if answered.status_code == 422 and problems else body["message"]
    headers = {k: v for k, v in answered.headers.items() if k.lower() != "content-length"}
    return JSONResponse({"detail": detail, **body}, answered.status_code, headers)
