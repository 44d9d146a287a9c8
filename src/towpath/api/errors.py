"""The error envelope: every error, ours or the framework's, leaves in one shape."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from towpath.api.allowed_methods import allowed_methods, options_response
from towpath.api.request_id import current_request_id
from towpath.domain import errors
from towpath.storage.unavailable import database_away, database_busy

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from starlette.responses import Response

log = logging.getLogger("towpath.api")

_STATUS: list[tuple[type[errors.TowpathError], int]] = [
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.RateLimited, 429),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.TooLarge, 413),
    (errors.Unprocessable, 422),
    (errors.InvalidRequest, 400),
]

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = current_request_id()
    body = {"error_code": code, "message": message, "details": details or {}}
    body["request_id"] = request_id
    all_headers = {"X-Request-ID": request_id, **(headers or {})}
    return JSONResponse(body, status_code=status, headers=all_headers)


def status_of(error: errors.TowpathError) -> int:
    return next((status for cls, status in _STATUS if isinstance(error, cls)), 400)


def headers_of(error: errors.TowpathError) -> dict[str, str] | None:
    if isinstance(error, errors.Unauthenticated):
        return {"WWW-Authenticate": 'Bearer realm="towpath"'}
    if isinstance(error, errors.RateLimited):
        return {"Retry-After": str(error.retry_after)}
    return None


async def _towpath_error(_: Request, exc: Exception) -> JSONResponse:
    exc = cast("errors.TowpathError", exc)
    return envelope(status_of(exc), exc.code, exc.message, exc.details, headers_of(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast("RequestValidationError", exc)
    problems = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    if any(p["type"] == "json_invalid" for p in problems):
        return envelope(
            400, "MALFORMED_JSON", "the request body is not valid JSON", {"errors": problems}
        )
    if isinstance(exc.body, bytes) and exc.body:
        # FastAPI reads a body as JSON only when its Content-Type says so; any other
        # body reaches validation as bytes.
        content_type = request.headers.get("content-type", "")
        sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        return envelope(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"the request body must be JSON, sent with Content-Type: application/json;"
            f" this one came with {sent}",
            {"content_type": content_type or None, "expected": "application/json"},
        )
    return envelope(422, "VALIDATION_ERROR", "the request is not valid", {"errors": problems})


async def _http_error(request: Request, exc: Exception) -> Response:
    exc = cast("StarletteHTTPException", exc)
    if exc.status_code == 405:
        return _method_not_allowed(request)
    code = _HTTP_CODES.get(exc.status_code, "ERROR")
    headers = dict(exc.headers) if exc.headers else None
    return envelope(exc.status_code, code, str(exc.detail), headers=headers)


def _method_not_allowed(request: Request) -> Response:
    allow = allowed_methods(request)
    if request.method == "OPTIONS":
        return options_response(allow, current_request_id())
    message = f"{request.method} is not served at {request.url.path}; it serves {allow}"
    details = {"method": request.method, "allowed": allow.split(", ")}
    return envelope(405, "METHOD_NOT_ALLOWED", message, details, headers={"Allow": allow})


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    # Never SQL text in a response: the constraint's message stays in the log.
    log.info("integrity error: %s", exc)
    return envelope(409, "CONFLICT", "the request conflicts with an existing resource")


async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
    # The database could not be reached, or dropped the connection under the request (a
    # restart, a failover, a full server): the same request may well succeed a moment later.
    if database_away(exc):
        log.warning("database unavailable (request %s): %s", current_request_id(), exc)
        message = "the database is unavailable for a moment; send the request again"
        return envelope(503, "SERVICE_UNAVAILABLE", message, headers={"Retry-After": "1"})
    if database_busy(exc):
        log.warning("no database connection came free (request %s)", current_request_id())
        message = "the server is busy (no database connection came free); send it again"
        return envelope(503, "SERVICE_UNAVAILABLE", message, headers={"Retry-After": "1"})
    log.error("unhandled error (request %s)", current_request_id(), exc_info=exc)
    return envelope(500, "INTERNAL_ERROR", "an internal error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.TowpathError, _towpath_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(Exception, _unhandled)
