"""Who is at the other end of a WebSocket: its principal, or a refusal with a close code.

A browser cannot set headers on a WebSocket, so a credential may come three ways: the
`Authorization` header (other clients), the subprotocol pair
`Sec-WebSocket-Protocol: towpath.bearer, <token>`, or a short-lived `?token=` (taken out
of the query string once read, so no access log line carries it). Every socket endpoint
calls `socket_caller` before it accepts; nothing is read or subscribed for a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials  # noqa: TC002 - a dependency's type

from towpath.api.deps import _api_key, _bearer, current_principal
from towpath.api.rate_limit import mark_authenticated
from towpath.auth.principal import Principal  # noqa: TC001 - a dependency's return type
from towpath.auth.stream_tokens import looks_like_stream_token
from towpath.domain.errors import Forbidden, RateLimited, Unauthenticated
from towpath.events import close_codes

if TYPE_CHECKING:
    from datetime import datetime

    from starlette.requests import HTTPConnection

    from towpath.api.rate_limit import RateLimiter
    from towpath.auth.authenticator import Authenticator
    from towpath.auth.stream_tokens import StreamTokens

BEARER_PROTOCOL = "towpath.bearer"


class SocketRefused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Credential:
    token: str
    # "authorization", "subprotocol" or "query": where the client put it.
    source: str


@dataclass(frozen=True)
class SocketCaller:
    principal: Principal
    # Echoed on accept: a browser that offered subprotocols fails the handshake unless
    # one of them comes back. Only the protocol name, never the token.
    subprotocol: str | None = None

    @property
    def expires_at(self) -> datetime | None:
        return credential_expiry(self.principal)


async def socket_caller(conn: HTTPConnection) -> SocketCaller:
    """The socket's principal; raises SocketRefused (4401 unauthenticated, 4403 forbidden)."""
    check_origin(conn)
    credential = presented_credential(conn)
    principal = await principal_for(conn, credential)
    offered = BEARER_PROTOCOL in conn.scope.get("subprotocols", [])
    return SocketCaller(principal, BEARER_PROTOCOL if offered else None)


async def principal_for(conn: HTTPConnection, credential: Credential | None) -> Principal:
    """The credential checked as the HTTP routes check it: an API key or a JWT in a header
    or the subprotocol, or a stream token anywhere. A token in the URL must be a stream
    token: a long-lived credential does not belong where proxies and histories keep it.
    Raises SocketRefused: 4401 for a missing or bad credential, 4403 for one that may not
    read runs here."""
    if credential is None:
        raise SocketRefused(
            close_codes.UNAUTHENTICATED,
            "this stream needs a credential: `Authorization: Bearer …`, the subprotocol"
            f" `{BEARER_PROTOCOL}` with a token, or `?token=` with a stream token",
        )
    try:
        principal = await _authenticate(conn, credential)
    except Unauthenticated as refused:
        raise SocketRefused(close_codes.UNAUTHENTICATED, refused.message) from refused
    except Forbidden as refused:
        raise SocketRefused(close_codes.FORBIDDEN, refused.message) from refused
    mark_authenticated(conn.scope)
    if not principal.has_role("viewer"):
        raise SocketRefused(close_codes.FORBIDDEN, "this credential may not read runs")
    limiter: RateLimiter = conn.app.state.credential_limiter
    if limiter.take(principal.subject) is not None:
        raise SocketRefused(close_codes.RATE_LIMITED, "too many requests with this credential")
    return principal


async def _authenticate(conn: HTTPConnection, credential: Credential) -> Principal:
    tokens: StreamTokens = conn.app.state.stream_tokens
    if looks_like_stream_token(credential.token):
        return tokens.verify(credential.token)
    if credential.source == "query":
        raise Unauthenticated(
            "a token in the URL must be a stream token: POST /api/v1/stream-tokens makes one"
        )
    authenticator: Authenticator = conn.app.state.authenticator
    return await authenticator.authenticate(
        credential.token, workspace=conn.headers.get("x-workspace")
    )


async def stream_reader(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
    token: Annotated[
        str | None,
        Query(description="A stream token (`POST /api/v1/stream-tokens`), for an EventSource"),
    ] = None,
    x_workspace: Annotated[str | None, Header(max_length=100)] = None,
) -> Principal:
    """Who reads a Server-Sent Events stream: as every route, or by a stream token in the
    URL (an EventSource sets no headers)."""
    if token is None:
        return await current_principal(request, bearer, api_key, x_workspace)
    try:
        return await principal_for(request, Credential(token, "query"))
    except SocketRefused as refused:
        if refused.code == close_codes.RATE_LIMITED:
            raise RateLimited(1.0, "credential") from refused
        raise Unauthenticated(refused.reason) from refused


def credential_expiry(principal: Principal) -> datetime | None:
    """When the principal's credential stops being valid; a stream ends then (1008)."""
    expires_at: datetime | None = getattr(principal, "expires_at", None)
    return expires_at


def check_origin(conn: HTTPConnection) -> None:
    """A browser names the page that opens a socket; only the allowed origins may. A
    client without an Origin is not a browser, and no other site can act through it."""
    origin = conn.headers.get("origin")
    if origin is None:
        return
    allowed = conn.app.state.streams.allowed_origins
    if origin in allowed or "*" in allowed or _same_origin(conn, origin):
        return
    raise SocketRefused(close_codes.FORBIDDEN, "origin not allowed")


def _same_origin(conn: HTTPConnection, origin: str) -> bool:
    """A page the server itself served (the console at /ui) opens sockets to its own host;
    a page of another site names another host, which the browser does not let it forge."""
    host = conn.headers.get("host")
    return host is not None and urlsplit(origin).netloc == host


def presented_credential(conn: HTTPConnection) -> Credential | None:
    # Taken out of the URL whatever else the client sent, before anything logs the URL.
    query_token = _take_query_token(conn)
    authorization = conn.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return Credential(token.strip(), "authorization")
        return Credential(authorization, "authorization")
    api_key = conn.headers.get("x-api-key")
    if api_key:
        return Credential(api_key.strip(), "authorization")
    protocols: list[str] = conn.scope.get("subprotocols", [])
    if BEARER_PROTOCOL in protocols:
        at = protocols.index(BEARER_PROTOCOL) + 1
        if at < len(protocols) and protocols[at]:
            return Credential(protocols[at], "subprotocol")
    return Credential(query_token, "query") if query_token else None


def _take_query_token(conn: HTTPConnection) -> str | None:
    pairs = parse_qsl(conn.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    token = next((value for name, value in pairs if name == "token"), None)
    if token is not None:
        # The server logs the path with its query string when it accepts the socket.
        kept = [(name, value) for name, value in pairs if name != "token"]
        conn.scope["query_string"] = urlencode(kept).encode("latin-1")
    return token
