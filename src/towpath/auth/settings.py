"""Settings of authentication, mixed into `towpath.config.Settings`."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

# Algorithms a deployment may accept. `none` is not among them, and never will be.
SUPPORTED_ALGORITHMS = frozenset(
    {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
     "ES256", "ES384", "ES512"}
)  # fmt: skip


def split_list(value: object) -> object:
    """A comma-separated environment value as a list; lists pass through."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class AuthSettings(BaseModel):
    # HS* tokens are checked with this shared secret (Supabase: the project's JWT secret).
    jwt_secret: str = ""
    # RS*/ES*/PS* tokens are checked with the keys published here.
    jwt_jwks_url: str = ""
    # The algorithms accepted; a token's own header never widens this.
    jwt_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["HS256", "RS256", "ES256"]
    )
    jwt_audience: str = "authenticated"
    # Checked when set.
    jwt_issuer: str = ""
    jwt_leeway_seconds: float = Field(default=30.0, ge=0, le=300)
    # Dotted claim paths (e.g. `app_metadata.towpath_role`); when unset, a JWT user's
    # workspace and role come from the workspace's members.
    jwt_workspace_claim: str = ""
    jwt_role_claim: str = ""
    # How long fetched JWKS keys are used before they are fetched again; an unknown key id
    # fetches at once, at most every `jwks_min_refresh_seconds`.
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    jwks_min_refresh_seconds: float = Field(default=30.0, ge=0)
    # How long this process trusts what it read about a key or a member. A revocation or a
    # role change is heard at once (on PostgreSQL from every process, by NOTIFY); this
    # bounds only what goes unheard.
    auth_cache_seconds: float = Field(default=10.0, ge=0)
    # Peers (CIDRs or addresses) whose X-Forwarded-For and X-Forwarded-Proto are believed:
    # the proxies in front of the server. None by default, loopback included: a header a
    # client sets itself never changes the address the audit log and rate limits see.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("jwt_algorithms", "trusted_proxies", mode="before")
    @classmethod
    def _split_auth_lists(cls, value: object) -> object:
        return split_list(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        networks = []
        for entry in value:
            try:
                networks.append(str(ipaddress.ip_network(entry, strict=False)))
            except ValueError:
                raise ValueError(f"not an address or CIDR: {entry!r}") from None
        return networks

    @field_validator("jwt_algorithms")
    @classmethod
    def _known_algorithms(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in SUPPORTED_ALGORITHMS]
        if unknown:
            raise ValueError(f"unsupported JWT algorithm(s): {', '.join(unknown)}")
        return value

    @property
    def jwt_enabled(self) -> bool:
        return bool(self.jwt_secret or self.jwt_jwks_url)
