"""Reading a webhook request as it came: raw body and headers, for signatures to check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.triggers.deliveries import IncomingRequest

if TYPE_CHECKING:
    from fastapi import Request

# A webhook body is taken as it is: JSON, a form, or any text.
ANY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}},
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
