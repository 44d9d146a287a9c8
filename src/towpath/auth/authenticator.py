"""Turns a raw credential (an API key or a JWT) into a `Principal`, or refuses it.

What it reads about keys and members is kept for `auth_cache_seconds`, so a busy caller
costs the database one read per key per interval, not one per request; a revocation or a
role change, here or in another process, is forgotten at once (`access_changed`).

A JWT user acts in the workspace its token's claim names, else the one `X-Workspace`
names, else the first workspace it became a member of: joining another one later never
changes where its requests go.
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

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


class ChangedAccess(Protocol):
    """Access that changed, as the stream of access notices announces it."""

    @property
    def subject(self) -> str:
        """The principal's subject: "key:<id>", "user:<sub>"."""
        ...

    @property
    def grant(self) -> str:
        """What the access stood on: "key:<id>" or "member:<id>"."""
        ...


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
    # The membership it comes from; None when the identity provider's claim vouches for
    # the workspace.
    member_id: str | None


@dataclass(frozen=True)
class _Grant:
    """An API key or a membership that still holds."""

    workspace_id: str
    expires_at: datetime | None


class _TimedCache(Generic[T]):
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._seconds = seconds
        self._clock = clock
        self._entries: dict[object, tuple[float, T]] = {}
        # Counts what was forgotten: a value read before something was forgotten may be
        # older than that, so it is handed back but not kept.
        self._generation = 0

    async def get(self, key: object, load: Callable[[], Awaitable[T]]) -> T:
        found = self._entries.get(key)
        if found is not None and self._clock() - found[0] < self._seconds:
            return found[1]
        generation = self._generation
        value = await load()
        if generation != self._generation:
            return value
        if len(self._entries) >= _MAX_CACHED:
            self._entries.clear()
        self._entries[key] = (self._clock(), value)
        return value

    def forget(self, match: Callable[[object, T], bool]) -> None:
        self._generation += 1
        for key in [key for key, (_, value) in self._entries.items() if match(key, value)]:
            del self._entries[key]


class NotAMember(Forbidden):
    code = "NOT_A_MEMBER"


def _not_a_member_of(subject: str, workspace: str) -> NotAMember:
    # The same answer whether the workspace exists or not: no way to learn which do.
    return NotAMember(
        f"{subject!r} is not a member of the workspace named, or it does not exist",
        details={"subject": subject, "workspace": workspace},
    )


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
        self._grants: _TimedCache[_Grant | None] = _TimedCache(settings.auth_cache_seconds, clock)

    async def authenticate(self, credential: str, *, workspace: str | None = None) -> Principal:
        """The principal a raw credential (API key or JWT) stands for.

        Raises `Unauthenticated` for a malformed, unknown, revoked, expired or wrongly
        signed credential, and `Forbidden` for a valid JWT whose user belongs to no
        workspace, or not to the one `workspace` (an id or slug) names.
        """
        credential = credential.strip()
        if credential.startswith("tp_"):
            return await self._api_key(credential)
        if looks_like_jwt(credential):
            if self.verifier is None:
                raise Unauthenticated("JWTs are not accepted: no secret or JWKS URL is set")
            return await self._jwt(await self.verifier.verify(credential), workspace)
        raise Unauthenticated("the credential is neither an API key nor a JWT")

    async def confirm(self, principal: Principal) -> Principal:
        """The principal, if what its access stands on still holds: its API key is not
        revoked nor expired, its membership not removed. Raises `Unauthenticated` else.
        A changed role still holds: what is confirmed this way (a stream) only reads."""
        if principal.grant is not None:
            ended = await self.grant_ended(principal.workspace_id, principal.grant)
            if ended is not None:
                raise Unauthenticated(ended)
        return principal

    async def grant_ended(self, workspace_id: str, grant: str) -> str | None:
        """Why access standing on `grant` (in that workspace) ended, or None while it holds."""
        found = await self._grants.get(grant, lambda: self._load_grant(grant))
        if found is None or found.workspace_id != workspace_id:
            if grant.startswith("key:"):
                return "the API key was revoked"
            return "the member was removed from the workspace"
        if found.expires_at is not None and found.expires_at <= utcnow():
            return "the API key has expired"
        return None

    def access_changed(self, change: ChangedAccess) -> None:
        """Forget what is cached about access that changed (here or in another process)."""
        if change.grant.startswith("key:"):
            key_id = change.grant.removeprefix("key:")
            self._keys.forget(lambda _, key: key is not None and key.id == key_id)
        else:
            subject = change.subject.removeprefix("user:")
            self._access.forget(lambda key, _: isinstance(key, tuple) and key[0] == subject)
        self._grants.forget(lambda key, _: key == change.grant)

    def forget_all(self) -> None:
        """Changes of access may have gone unheard: read everything again."""
        for cache in (self._keys, self._access, self._grants):
            cache.forget(lambda _, __: True)

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
        grant = f"key:{key.id}"
        return Principal(grant, key.workspace_id, key.role, key.expires_at, "api_key", grant)

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

    async def _load_grant(self, grant: str) -> _Grant | None:
        kind, _, ident = grant.partition(":")
        async with self.db.read() as session:
            if kind == "key":
                key = await api_keys.find_by_id(session, ident)
                if key is None or key.revoked_at is not None:
                    return None
                return _Grant(key.workspace_id, key.expires_at)
            member = await members.find_by_id(session, ident) if kind == "member" else None
        return None if member is None else _Grant(member.workspace_id, None)

    async def _jwt(self, token: VerifiedToken, workspace: str | None) -> Principal:
        settings = self.settings
        named = (
            claim(token.claims, settings.jwt_workspace_claim)
            if settings.jwt_workspace_claim
            else None
        )
        role = claim(token.claims, settings.jwt_role_claim) if settings.jwt_role_claim else None
        from_claim = named is not None
        wanted = str(named) if from_claim else workspace
        access = await self._access.get(
            (token.subject, wanted, from_claim),
            lambda: self._load_access(token.subject, wanted, from_claim=from_claim),
        )
        final_role = role if is_role(role) else access.role
        if not is_role(final_role):
            raise NotAMember(
                f"{token.subject!r} has no role in this workspace",
                details={"subject": token.subject},
            )
        # Claims that name both the workspace and the role need no membership: only the
        # token's expiry ends that access.
        vouched = from_claim and is_role(role)
        grant = None if vouched or access.member_id is None else f"member:{access.member_id}"
        return Principal(
            f"user:{token.subject}",
            access.workspace_id,
            str(final_role),
            token.expires_at,
            "jwt",
            grant,
        )

    async def _load_access(self, subject: str, wanted: str | None, *, from_claim: bool) -> _Access:
        """The workspace named (by a claim or X-Workspace), else the subject's first."""
        async with self.db.read() as session:
            if wanted is None:
                first = await members.first_membership(session, subject)
                if first is None:
                    raise NotAMember(
                        f"{subject!r} is not a member of any workspace",
                        details={"subject": subject},
                    )
                return _Access(first.workspace_id, first.role, first.id)
            row = await members.membership_in(session, subject, wanted)
            if row is not None:
                return _Access(row.workspace_id, row.role, row.id)
            if from_claim:
                chosen = await workspaces.find_workspace(session, wanted)
                if chosen is not None:
                    # The identity provider vouches for the workspace; the role may come
                    # from a claim.
                    return _Access(chosen.id, "", None)
        raise _not_a_member_of(subject, wanted)


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
