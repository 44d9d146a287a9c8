"""The error envelope, as the OpenAPI schema describes every 4xx and 5xx."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorResponse(BaseModel):
    error_code: str
    message: str
    details: dict[str, Any]
    request_id: str


def _described(text: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": text}


# Every authenticated route may answer these.
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": _described(
        "The error envelope: 401 no valid credential, 403 a role is missing, 404 not found"
        " (or another workspace's), 409 conflict, 413 too large, 422 invalid, 429 rate limited"
    ),
}
