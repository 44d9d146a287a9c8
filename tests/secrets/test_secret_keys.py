"""Secrets are encrypted with the first configured key and read with any; rotating the
key re-encrypts them, so the old key can go."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from towpath.cli import app
from towpath.services.secrets import reencrypt_all
from towpath.storage.database import Database
from towpath.storage.migrate import upgrade
from towpath.storage.models import WorkspaceSecret
from towpath.storage.secret_keys import (
    SecretKeys,
    SecretKeysInvalid,
    SecretUnreadable,
    configured_keys,
    load_secret_keys,
)
from towpath.storage.workspaces import ensure_workspace

if TYPE_CHECKING:
    from pathlib import Path


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before = SecretKeys([old]).encrypt("value")
    both = SecretKeys([new, old])
    assert both.decrypt(before) == "value"
    rotated = both.rotate(before)
    assert SecretKeys([new]).decrypt(rotated) == "value"
    with pytest.raises(SecretUnreadable):
        SecretKeys([new]).decrypt(before)


def test_a_key_that_is_not_a_fernet_key_is_refused_naming_the_setting() -> None:
    with pytest.raises(SecretKeysInvalid, match="TOWPATH_SECRETS_KEY: key 2"):
        configured_keys(f"{Fernet.generate_key().decode()}, not-a-key")


async def test_rotating_the_key_re_encrypts_every_secret(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            workspace = await ensure_workspace(session)
        old = Fernet.generate_key().decode()
        with_old = await load_secret_keys(db, old)
        async with db.transaction() as session:
            session.add(
                WorkspaceSecret(
                    workspace_id=workspace.id, name="TOKEN", ciphertext=with_old.encrypt("v")
                )
            )
        new = Fernet.generate_key().decode()
        assert await reencrypt_all(db, await load_secret_keys(db, f"{new},{old}")) == 1
        async with db.read() as session:
            (row,) = await session.scalars(select(WorkspaceSecret))
        assert SecretKeys([new.encode()]).decrypt(row.ciphertext) == "v"
    finally:
        await db.dispose()


async def _stored_with(url: str, key: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        async with db.transaction() as session:
            workspace = await ensure_workspace(session)
        keys = await load_secret_keys(db, key)
        async with db.transaction() as session:
            secret = WorkspaceSecret(workspace_id=workspace.id, name="T", ciphertext="")
            secret.ciphertext = keys.encrypt("v")
            session.add(secret)
    finally:
        await db.dispose()


async def _ciphertext(url: str) -> str:
    db = Database(url)
    try:
        async with db.read() as session:
            (row,) = await session.scalars(select(WorkspaceSecret))
        return row.ciphertext
    finally:
        await db.dispose()


def test_the_cli_re_encrypts_with_the_first_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    asyncio.run(_stored_with(url, old))
    env = {"TOWPATH_DATABASE_URL": url, "TOWPATH_SECRETS_KEY": f"{new},{old}"}
    result = CliRunner().invoke(app, ["db", "reencrypt-secrets"], env=env)
    assert result.exit_code == 0, result.output
    assert SecretKeys([new.encode()]).decrypt(asyncio.run(_ciphertext(url))) == "v"
