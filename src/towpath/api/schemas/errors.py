"""The error envelope, and the statuses each operation documents with it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorResponse(BaseModel):
    error_code: str
    message: str
    details: dict[str, Any]
    request_id: str


_MEANING = {
    400: "Malformed JSON, or a request the API cannot read",
    401: "No valid credential",
    403: "The caller's role does not allow this",
    404: "Not found (or another workspace's)",
    409: "Conflicts with the resource's current state, or with a request still in flight",
    413: "The request body, or the definition in it, is over its size limit",
    415: "The request body is not sent as application/json",
    422: "A parameter or the body is invalid; `details.errors` says where",
    429: "Rate limited; retry after the Retry-After header's seconds",
    500: "An internal error; it has been logged with the request id",
    503: "A dependency is down",
}


# The `responses` of a route: documented status, its description, model, headers, links.
Responses = dict[int | str, dict[str, Any]]


def errors(*statuses: int) -> Responses:
    """The responses for these statuses, each the error envelope."""
    return {
        status: {"model": ErrorResponse, "description": _MEANING[status]} for status in statuses
    }


# What any authenticated operation may answer.
AUTHENTICATED = errors(401, 403, 422, 429, 500)
# What any operation that reads a JSON body may answer besides.
WITH_BODY = errors(400, 413, 415)
