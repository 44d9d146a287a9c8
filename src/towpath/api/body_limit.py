"""Refuses request bodies over the configured size before they are read whole."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException

from towpath.api.errors import envelope

if TYPE_CHECKING:
    from starlette.responses import JSONResponse
    from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised while a body is read. FastAPI hands it to our HTTP error handler; a
    middleware reading the body itself answers with `response()`."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is over the limit of {max_bytes} bytes")
        self.max_bytes = max_bytes

    def response(self) -> JSONResponse:
        return envelope(413, "PAYLOAD_TOO_LARGE", self.detail, {"max_bytes": self.max_bytes})


# Webhook deliveries: a refused one is logged against its trigger, so the route reads
# and checks its body itself (the limit still holds while it reads).
_OWN_BODY_PREFIX = "/api/v1/hooks/"


def checks_own_body(scope: Scope) -> bool:
    path: str = scope["path"]
    return path.startswith(_OWN_BODY_PREFIX)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self.max_bytes
        if too_large and not checks_own_body(scope):
            await BodyTooLarge(self.max_bytes).response()(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)
