"""The keys workspace secrets are encrypted with: those settings name, first one
encrypting, then the server's own, made once and kept in the database."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from towpath.storage.secrets import server_secret

if TYPE_CHECKING:
    from towpath.storage.database import Database

# The server secret the default key derives from, when settings name no key.
SERVER_KEY_NAME = "workspace_secrets_key"


class SecretKeysInvalid(ValueError):
    """A configured key is not a Fernet key: said at start-up, naming the setting."""


class SecretUnreadable(Exception):
    """No key this server holds decrypts the ciphertext (its key was removed)."""


class SecretKeys:
    """Encrypts with the first key; decrypts with any, so an old key can be rotated out."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeysInvalid("at least one key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadable("no configured key decrypts this secret") from exc

    def rotate(self, ciphertext: str) -> str:
        """The same value, encrypted with the first key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadable("no configured key decrypts this secret") from exc


def configured_keys(setting: str) -> list[bytes]:
    """`TOWPATH_SECRETS_KEY`: Fernet keys separated by commas, the newest first."""
    keys = [part.strip().encode() for part in setting.split(",") if part.strip()]
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except ValueError as exc:
            raise SecretKeysInvalid(
                f"TOWPATH_SECRETS_KEY: key {index + 1} is not a Fernet key"
                " (32 url-safe base64-encoded bytes, as `Fernet.generate_key()` makes)"
            ) from exc
    return keys


def derived_key(server_value: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(server_value.encode()).digest())


async def load_secret_keys(db: Database, setting: str) -> SecretKeys:
    """The configured keys, then the server's own: a secret stored before a key was set
    still decrypts, and one stored since is encrypted with the configured key."""
    keys = configured_keys(setting)
    keys.append(derived_key(await server_secret(db, SERVER_KEY_NAME)))
    return SecretKeys(keys)
