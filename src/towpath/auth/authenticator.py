"""Turns a raw credential (an API key or a JWT) into a `Principal`, or refuses it.

What it reads about keys and members is kept for `auth_cache_seconds`, so a busy caller
costs the database one read per key per interval, not one per request.
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

import httpx

from towpath.auth.api_keys import key_prefix, matches
from towpath.auth.claims import claim, looks_like_jwt
from towpath.auth.principal import Principal, is_role
from towpath.domain.clock import utcnow
from towpath.domain.errors import Forbidden, Unauthenticated
from towpath.storage import api_keys, members, workspaces

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from datetime import datetime

    from towpath.auth.settings import AuthSettings
    from towpath.auth.tokens import TokenVerifier, VerifiedToken
    from towpath.storage.database import Database

T = TypeVar("T")
# `last_used_at` is written at most this often per key: a write per request would cost more
# than the request.
_TOUCH_INTERVAL = timedelta(minutes=1)
_MAX_CACHED = 10_000


@dataclass(frozen=True)
class _Key:
    id: str
    workspace_id: str
    role: str
    key_hash: str
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class _Access:
    workspace_id: str
    role: str


class _TimedCache(Generic[T]):
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._seconds = seconds
        self._clock = clock
        self._entries: dict[object, tuple[float, T]] = {}

    async def get(self, key: object, load: Callable[[], Awaitable[T]]) -> T:
        found = self._entries.get(key)
        if found is not None and self._clock() - found[0] < self._seconds:
            return found[1]
        value = await load()
        if len(self._entries) >= _MAX_CACHED:
            self._entries.clear()
        self._entries[key] = (self._clock(), value)
        return value

    def forget(self, match: Callable[[object], bool]) -> None:
        for key in [key for key in self._entries if match(key)]:
            del self._entries[key]


class NotAMember(Forbidden):
    code = "NOT_A_MEMBER"


class Authenticator:
    def __init__(
        self,
        db: Database,
        settings: AuthSettings,
        verifier: TokenVerifier | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.settings = settings
        self.verifier = verifier
        self._keys: _TimedCache[_Key | None] = _TimedCache(settings.auth_cache_seconds, clock)
        self._access: _TimedCache[_Access] = _TimedCache(settings.auth_cache_seconds, clock)

    async def authenticate(self, credential: str, *, workspace: str | None = None) -> Principal:
        """The principal a raw credential (API key or JWT) stands for.

        Raises `Unauthenticated` for a malformed, unknown, revoked, expired or wrongly
        signed credential, and `Forbidden` for a valid JWT whose user belongs to no
        workspace (or, in several, to none named by `workspace`, an id or slug).
        """
        credential = credential.strip()
        if credential.startswith("tp_"):
            return await self._api_key(credential)
        if looks_like_jwt(credential):
            if self.verifier is None:
                raise Unauthenticated("JWTs are not accepted: no secret or JWKS URL is set")
            return await self._jwt(await self.verifier.verify(credential), workspace)
        raise Unauthenticated("the credential is neither an API key nor a JWT")

    def forget_key(self, prefix: str) -> None:
        """Drop what is cached about a key (it was revoked or changed here)."""
        self._keys.forget(lambda key: key == prefix)

    def forget_subject(self, subject: str) -> None:
        """Drop what is cached about a JWT subject's memberships."""
        self._access.forget(lambda key: isinstance(key, tuple) and key[0] == subject)

    async def _api_key(self, credential: str) -> Principal:
        prefix = key_prefix(credential)
        if prefix is None:
            raise Unauthenticated("the API key is malformed")
        key = await self._keys.get(prefix, lambda: self._load_key(prefix))
        if key is None or not matches(credential, key.key_hash):
            raise Unauthenticated("the API key is not valid")
        if key.revoked_at is not None:
            raise Unauthenticated("the API key was revoked")
        if key.expires_at is not None and key.expires_at <= utcnow():
            raise Unauthenticated("the API key has expired")
        return Principal(f"key:{key.id}", key.workspace_id, key.role, key.expires_at, "api_key")

    async def _load_key(self, prefix: str) -> _Key | None:
        async with self.db.read() as session:
            row = await api_keys.find_by_prefix(session, prefix)
        if row is None:
            return None
        now = utcnow()
        if row.revoked_at is None and (
            row.last_used_at is None or row.last_used_at + _TOUCH_INTERVAL <= now
        ):
            async with self.db.transaction() as session:
                await api_keys.mark_used(session, row.id, now)
        return _Key(
            row.id, row.workspace_id, row.role, row.key_hash, row.expires_at, row.revoked_at
        )

    async def _jwt(self, token: VerifiedToken, workspace: str | None) -> Principal:
        settings = self.settings
        named = (
            claim(token.claims, settings.jwt_workspace_claim)
            if settings.jwt_workspace_claim
            else None
        )
        role = claim(token.claims, settings.jwt_role_claim) if settings.jwt_role_claim else None
        wanted = str(named) if named is not None else workspace
        access = await self._access.get(
            (token.subject, wanted, named is not None),
            lambda: self._load_access(token.subject, wanted, from_claim=named is not None),
        )
        final_role = role if is_role(role) else access.role
        if not is_role(final_role):
            raise NotAMember(
                f"{token.subject!r} has no role in this workspace",
                details={"subject": token.subject},
            )
        return Principal(
            f"user:{token.subject}", access.workspace_id, str(final_role), token.expires_at, "jwt"
        )

    async def _load_access(self, subject: str, wanted: str | None, *, from_claim: bool) -> _Access:
        async with self.db.read() as session:
            chosen = await workspaces.find_workspace(session, wanted) if wanted else None
            if wanted is not None and chosen is None:
                raise NotAMember(
                    f"workspace {wanted!r} does not exist", details={"workspace": wanted}
                )
            rows = await members.memberships(session, subject)
        if chosen is not None:
            rows = [row for row in rows if row.workspace_id == chosen.id]
            if from_claim and not rows:
                # The identity provider vouches for the workspace; the role may come from a claim.
                return _Access(chosen.id, "")
        if not rows:
            raise NotAMember(
                f"{subject!r} is not a member of any workspace", details={"subject": subject}
            )
        if len(rows) > 1:
            raise NotAMember(
                f"{subject!r} is a member of several workspaces; name one in X-Workspace",
                details={"subject": subject, "workspaces": [row.workspace_id for row in rows]},
            )
        return _Access(rows[0].workspace_id, rows[0].role)


@asynccontextmanager
async def authenticator_running(
    db: Database, settings: AuthSettings
) -> AsyncIterator[Authenticator]:
    """An authenticator for a process, with its JWKS client when a JWKS URL is set."""
    if not settings.jwt_enabled:
        yield Authenticator(db, settings, None)
        return
    # Imported here: a server that takes no JWT never loads the JWT library.
    from towpath.auth.jwks import JwksKeys
    from towpath.auth.tokens import TokenVerifier

    if not settings.jwt_jwks_url:
        yield Authenticator(db, settings, TokenVerifier(settings, None))
        return
    async with httpx.AsyncClient() as http:
        jwks = JwksKeys(
            settings.jwt_jwks_url,
            http,
            cache_seconds=settings.jwks_cache_seconds,
            min_refresh_seconds=settings.jwks_min_refresh_seconds,
        )
        yield Authenticator(db, settings, TokenVerifier(settings, jwks))
