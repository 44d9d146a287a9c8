"""Reading a webhook request as it came: raw body and headers, for signatures to check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.triggers.deliveries import IncomingRequest

if TYPE_CHECKING:
    from fastapi import Request

# A webhook body is taken as it is: JSON, a form, or any text. A JSON object is the run's
# input; any other JSON value (an array, a number, `false`) is accepted as `{"body": ...}`,
# so the document says any value.
ANY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "description": "Any JSON value: an object is the input as it is, any"
                    ' other value is `{"body": value}`.'
                }
            },
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


async def incoming(request: Request) -> IncomingRequest:
    # Starlette's header names are lowercase already; the body limit holds while reading.
    body = await request.body()
    headers = dict(request.headers.items())
    return IncomingRequest(headers, body, request.headers.get("content-type", ""))
