"""The signing keys an identity provider publishes (a JWKS URL), fetched and cached.

A token naming a key id we do not hold fetches the set again (no more often than the
minimum refresh interval), so a provider's key rotation needs no restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import httpx
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKSetError

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("towpath.auth")


class JwksUnavailable(Exception):
    """The key set could not be fetched, and none is held."""


class JwksKeys:
    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        cache_seconds: float,
        min_refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._http = http
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str | None, PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> PyJWK | None:
        now = self._clock()
        stale = self._fetched_at is None or now - self._fetched_at >= self._cache_seconds
        may_refresh = self._fetched_at is None or now - self._fetched_at >= self._min_refresh
        if stale or (self._find(kid) is None and may_refresh):
            try:
                await self.refresh()
            except JwksUnavailable:
                # Keep using the keys we hold: a provider's hiccup must not log everyone out.
                log.warning("could not fetch the JWKS from %s", self.url, exc_info=True)
        return self._find(kid)

    def _find(self, kid: str | None) -> PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    async def refresh(self) -> None:
        async with self._lock:
            started = self._clock()
            if self._fetched_at is not None and started - self._fetched_at < self._min_refresh:
                return  # another request refreshed while this one waited for the lock
            try:
                response = await self._http.get(self.url, timeout=5.0)
                response.raise_for_status()
                found = PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, ValueError, PyJWKSetError) as exc:
                raise JwksUnavailable(str(exc)) from exc
            self._keys = {key.key_id: key for key in found.keys}
            self._fetched_at = started

    async def check(self) -> None:
        """Raise JwksUnavailable unless a fresh key set is held or can be fetched."""
        if self._fetched_at is None or self._clock() - self._fetched_at >= self._cache_seconds:
            await self.refresh()
