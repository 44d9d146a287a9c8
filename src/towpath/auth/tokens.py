"""JWT verification: HS* with a shared secret, RS*/PS*/ES* with keys from a JWKS URL.

Which key checks a token depends on its algorithm's family, and the algorithm must be one
the settings accept: an HS256 token is only ever checked against the shared secret, so a
public key can never be used as an HMAC secret (algorithm confusion), and `none` is never
accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt

from towpath.domain.errors import Unauthenticated

if TYPE_CHECKING:
    from towpath.auth.jwks import JwksKeys
    from towpath.auth.settings import AuthSettings

_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC"}


@dataclass(frozen=True)
class VerifiedToken:
    subject: str
    claims: dict[str, Any]
    expires_at: datetime


class TokenVerifier:
    def __init__(self, settings: AuthSettings, jwks: JwksKeys | None) -> None:
        self.settings = settings
        self.jwks = jwks

    async def verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise Unauthenticated("the token is not a well-formed JWT") from exc
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.settings.jwt_algorithms:
            raise Unauthenticated(
                f"tokens signed with {algorithm!r} are not accepted",
                details={"accepted": self.settings.jwt_algorithms},
            )
        key = await self._key(algorithm, header.get("kid"))
        claims = self._decode(token, key, algorithm)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("the token names no subject (`sub`)")
        return VerifiedToken(subject, claims, datetime.fromtimestamp(claims["exp"], UTC))

    async def _key(self, algorithm: str, kid: object) -> Any:
        if algorithm.startswith("HS"):
            if not self.settings.jwt_secret:
                raise Unauthenticated("no shared secret is configured for HS* tokens")
            return self.settings.jwt_secret.encode()
        if self.jwks is None:
            raise Unauthenticated(f"no JWKS URL is configured for {algorithm} tokens")
        found = await self.jwks.key(kid if isinstance(kid, str) else None)
        if found is None:
            raise Unauthenticated(
                "the token's signing key is not in the JWKS", details={"kid": kid}
            )
        # An `oct` (symmetric) key in a JWKS must never check an asymmetric algorithm.
        if found.key_type != _KEY_TYPES[algorithm[:2]]:
            raise Unauthenticated(f"the JWKS key {kid!r} is not a key for {algorithm}")
        return found.key

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        settings = self.settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.jwt_audience or None,
                issuer=settings.jwt_issuer or None,
                leeway=settings.jwt_leeway_seconds,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": bool(settings.jwt_audience),
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthenticated("the token is not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated("the token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthenticated("the token is from another issuer") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthenticated("the token's signature does not verify") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the token is not valid: {exc}") from exc
        return claims
