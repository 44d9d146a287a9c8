"""API keys: `tp_<prefix>_<secret>`; only the prefix (to find the row) and a hash are kept.

The secret is 256 random bits, so a fast hash is enough: nobody can guess their way
through it, and checking a key costs no more than a SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_FORMAT = re.compile(r"^tp_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class NewKey:
    # The whole key: shown once, never stored.
    plaintext: str
    prefix: str
    key_hash: str


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate_key() -> NewKey:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(12))
    plaintext = f"tp_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(plaintext=plaintext, prefix=prefix, key_hash=hash_key(plaintext))


def key_prefix(plaintext: str) -> str | None:
    """The lookup prefix of a well-formed key, None for anything else."""
    found = _FORMAT.match(plaintext)
    return found.group(1) if found else None


def matches(plaintext: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_key(plaintext), key_hash)
