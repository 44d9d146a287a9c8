"""Rate limits: a token bucket per credential and per client address, in this process.

The address limit counts only requests that did not authenticate (none offered, or a bad
one): it stops brute force and anonymous floods without capping a client whose
credential works. Each API process keeps its own buckets (no Redis needed), so behind a
load balancer of n processes a caller gets up to n times the configured rate.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from towpath.api.errors import envelope, headers_of
from towpath.domain.errors import RateLimited

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import ASGIApp, Receive, Scope, Send

# Paths no limit applies to: probes and scrapers must always get through.
EXEMPT_PREFIXES = ("/health", "/metrics")


class RateLimiter:
    """`per_minute` requests a minute per key, in bursts of up to `burst`."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = per_minute > 0
        self._rate = per_minute / 60.0
        self._burst = float(max(burst, 1))
        self._max_keys = max_keys
        self._clock = clock
        # key -> (tokens, when counted); least recently seen first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float | None:
        """Spend a token; None when allowed, else the seconds until one is there."""
        return self._count(key, spend=True)

    def wait(self, key: str) -> float | None:
        """None while a token is there, else the seconds until one is; spends nothing."""
        return self._count(key, spend=False)

    def _count(self, key: str, *, spend: bool) -> float | None:
        if not self.enabled:
            return None
        now = self._clock()
        tokens, then = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        allowed = tokens >= 1.0
        if allowed and spend:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            # The least recently seen bucket has had the longest to fill up again.
            self._buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / self._rate


AUTHENTICATED = "towpath.authenticated"


def mark_authenticated(scope: Scope) -> None:
    """Tells the address limit that this request's credential worked."""
    marker = scope.get(AUTHENTICATED)
    if marker is not None:
        marker.append(True)


class AddressLimitMiddleware:
    """Counts each request that did not authenticate against its address; once an
    address has spent its tokens, its requests get 429 before anything else runs (before
    a credential is checked, so guessing costs the server nothing)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        wait = self.limiter.wait(address)
        if wait is None:
            # A list, not a flag: a copy of the scope made further in shares it.
            authenticated: list[bool] = []
            scope[AUTHENTICATED] = authenticated
            try:
                await self.app(scope, receive, send)
            finally:
                if not authenticated:
                    self.limiter.take(address)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": "rate limited"})
            return
        error = RateLimited(wait, "address")
        response = envelope(429, error.code, error.message, error.details, headers_of(error))
        await response(scope, receive, send)
