"""Stream tokens: short-lived tickets to open a live stream where no header can be set.

A browser opens a WebSocket or an EventSource without headers, so its credential would
have to travel in the URL, where proxies and histories keep it. Instead it trades its
credential for a stream token (`POST /api/v1/stream-tokens`): good for opening streams
for a minute, signed with a secret every process of the server shares, checked without
a database read. A stream opened with one lasts as long as the credential it was made
from, and reads no more than that credential may.

A token names what it was made from (`grant`: the API key's id, or the membership's
id, which a removal ends for good) so that it opens nothing once that is revoked: the
stream endpoints confirm the grant still holds (`Authenticator.confirm`) before they open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from towpath.auth.principal import Principal, is_role
from towpath.domain.errors import Unauthenticated

if TYPE_CHECKING:
    from collections.abc import Callable

PREFIX = "tps_"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class StreamToken:
    token: str
    expires_at: datetime


class StreamTokens:
    def __init__(self, secret: str, lifetime: timedelta, clock: Callable[[], datetime]) -> None:
        self._key = hashlib.sha256(f"stream-tokens:{secret}".encode()).digest()
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, principal: Principal) -> StreamToken:
        expires_at = self._clock() + self._lifetime
        claims: dict[str, Any] = {
            "sub": principal.subject,
            "ws": principal.workspace_id,
            "role": principal.role,
            "exp": expires_at.timestamp(),
            # The stream ends when the credential behind it does.
            "until": principal.expires_at.timestamp() if principal.expires_at else None,
            "grant": principal.grant,
        }
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return StreamToken(f"{PREFIX}{body}.{self._sign(body)}", expires_at)

    def verify(self, token: str) -> Principal:
        if not token.startswith(PREFIX) or token.count(".") != 1:
            raise Unauthenticated("the stream token is malformed")
        body, signature = token[len(PREFIX) :].split(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            raise Unauthenticated("the stream token is not valid")
        try:
            claims = json.loads(_unb64(body))
            expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
            until = claims.get("until")
            lasts = datetime.fromtimestamp(float(until), UTC) if until is not None else None
            subject, workspace_id, role = claims["sub"], claims["ws"], claims["role"]
            grant = claims["grant"]
        except (ValueError, KeyError, TypeError) as exc:
            raise Unauthenticated("the stream token is malformed") from exc
        if expires <= self._clock():
            raise Unauthenticated("the stream token has expired; ask for a new one")
        if not is_role(role) or not (grant is None or isinstance(grant, str)):
            raise Unauthenticated("the stream token is malformed")
        return Principal(str(subject), str(workspace_id), str(role), lasts, "stream_token", grant)

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())


def looks_like_stream_token(credential: str) -> bool:
    return credential.startswith(PREFIX)
