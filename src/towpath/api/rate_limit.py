"""Rate limits: a token bucket per credential and per client address, in this process.

Each API process keeps its own buckets (no Redis needed), so behind a load balancer of n
processes a caller gets up to n times the configured rate.
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
        if not self.enabled:
            return None
        now = self._clock()
        tokens, then = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            # The least recently seen bucket has had the longest to fill up again.
            self._buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / self._rate


class AddressLimitMiddleware:
    """Refuses requests beyond the per-address rate with 429, before anything else runs."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.limiter.take(client[0] if client else "unknown")
        if wait is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": "rate limited"})
            return
        error = RateLimited(wait, "address")
        response = envelope(429, error.code, error.message, error.details, headers_of(error))
        await response(scope, receive, send)
