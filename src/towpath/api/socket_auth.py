"""Who is at the other end of a WebSocket: its principal, or a refusal with a close code.

A browser cannot set headers on a WebSocket, so a credential may come three ways: the
`Authorization` header (other clients), the subprotocol pair
`Sec-WebSocket-Protocol: towpath.bearer, <token>`, or a short-lived `?token=` (taken out
of the query string once read, so no access log line carries it). Every socket endpoint
calls `socket_caller` before it accepts; nothing is read or subscribed for a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from towpath.events import close_codes

if TYPE_CHECKING:
    from datetime import datetime

    from starlette.requests import HTTPConnection

    from towpath.auth.principal import Principal

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
    """Where the credential check plugs in: verify `credential.token` (an API key or a
    JWT) as the HTTP routes do, raise SocketRefused(UNAUTHENTICATED) when it is missing
    or invalid and SocketRefused(FORBIDDEN) when its role may not read runs. Until
    credentials are checked, every caller acts as the workspace's local principal."""
    principal: Principal = conn.app.state.local_principal
    return principal


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
    if origin in allowed or "*" in allowed:
        return
    raise SocketRefused(close_codes.FORBIDDEN, "origin not allowed")


def presented_credential(conn: HTTPConnection) -> Credential | None:
    authorization = conn.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return Credential(token.strip(), "authorization")
        return Credential(authorization, "authorization")
    protocols: list[str] = conn.scope.get("subprotocols", [])
    if BEARER_PROTOCOL in protocols:
        at = protocols.index(BEARER_PROTOCOL) + 1
        if at < len(protocols) and protocols[at]:
            return Credential(protocols[at], "subprotocol")
    query_token = _take_query_token(conn)
    return Credential(query_token, "query") if query_token else None


def _take_query_token(conn: HTTPConnection) -> str | None:
    pairs = parse_qsl(conn.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    token = next((value for name, value in pairs if name == "token"), None)
    if token is not None:
        # The server logs the path with its query string when it accepts the socket.
        kept = [(name, value) for name, value in pairs if name != "token"]
        conn.scope["query_string"] = urlencode(kept).encode("latin-1")
    return token
