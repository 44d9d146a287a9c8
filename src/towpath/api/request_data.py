"""Refuses, for every route at once, request data that no database can store or no
response can carry (`domain.json_data`), and a NUL character in the URL. Webhook
deliveries check their own bodies once their signature is checked, so that a refused one
is logged as every delivery is."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from towpath.api.body_limit import BodyTooLarge, checks_own_body
from towpath.api.errors import envelope
from towpath.domain.json_data import MAX_JSON_DEPTH, DataProblem, json_body_problem

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _is_json(scope: Scope) -> bool:
    content_type: bytes = dict(scope["headers"]).get(b"content-type", b"")
    media_type = content_type.split(b";")[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


def _query_problem(query_string: bytes) -> DataProblem | None:
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None  # a NUL can only arrive as one of these: most queries need no parse
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            safe_name = name.replace("\x00", "\\u0000")
            message = f"query parameter {safe_name!r} holds a NUL character (\\u0000)"
            return DataProblem("nul_character", ("query", safe_name), message)
    return None


class RequestDataMiddleware:
    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            # No id holds one, so nothing such a path names exists.
            message = "nothing is found at a path that holds a NUL character"
            await envelope(404, "NOT_FOUND", message)(scope, receive, send)
            return
        problem = _query_problem(scope.get("query_string", b""))
        if problem is None and _is_json(scope) and not checks_own_body(scope):
            try:
                body, receive = await _read_whole(receive)
            except BodyTooLarge as exc:
                await exc.response()(scope, receive, send)
                return
            problem = json_body_problem(body, self.max_depth)
        if problem is not None:
            refused = envelope(422, "VALIDATION_ERROR", problem.message, problem.details())
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_whole(receive: Receive) -> tuple[bytes, Receive]:
    """The body, and a receive that hands it on as if it had not been read."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            # The client left; the route will see the disconnect.
            pending: list[Message] = [message]
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            pending = []
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": bool(pending)}
        if pending:
            return pending.pop()
        return await receive()

    return body, replay
