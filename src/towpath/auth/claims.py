"""Reading JWTs without verifying them: does a credential look like one, and what does a
claim say. Kept apart from the verifier, so a server that accepts no JWT never loads the
JWT library (and the cryptography it brings)."""

from __future__ import annotations

from typing import Any


def looks_like_jwt(credential: str) -> bool:
    return credential.count(".") == 2


def claim(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (`app_metadata.role`), None when any part is missing."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
