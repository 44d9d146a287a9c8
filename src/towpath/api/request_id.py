"""The request id: the caller's `X-Request-ID` when it is sane, else a new one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from towpath.domain.ids import new_id
from towpath.observability.logs import current, set_request

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def current_request_id() -> str:
    return current("request_id") or new_id().replace("-", "")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE.match(incoming) else new_id().replace("-", "")
        client = scope.get("client")
        # Not reset on the way out: the 500 handler runs outside this middleware, in the
        # same task, and must still see the id. Each request has its own task context.
        set_request(request_id, client[0] if client else None)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)
