"""The token an agent step sends with its callback URL: one per step attempt, derived
(HMAC) from a server secret and the attempt's idempotency key, so nothing is stored and
an attempt executed twice (a lost lease) sends the same token both times."""

from __future__ import annotations

import base64
import hashlib
import hmac


def callback_token(key: bytes, idempotency_key: str, attempt: int) -> str:
    mac = hmac.new(key, idempotency_key.encode(), hashlib.sha256).digest()
    # The attempt in the clear: a token of an earlier attempt is told apart from a forgery.
    return f"{attempt}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def token_attempt(token: str) -> int | None:
    """The attempt a token says it is for, or None when it is not shaped like one."""
    attempt, dot, _ = token.partition(".")
    if not dot or not (attempt.isascii() and attempt.isdigit()) or len(attempt) > 9:
        return None
    return int(attempt)


def token_matches(key: bytes, idempotency_key: str, attempt: int, given: str) -> bool:
    expected = callback_token(key, idempotency_key, attempt)
    return hmac.compare_digest(expected.encode(), given.encode())
