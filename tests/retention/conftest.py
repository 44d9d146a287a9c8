"""Keys of each role of the test workspace, and a webhook sender."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.triggers.hooks import anonymous
from towpath.auth.principal import ROLES
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from fastapi import FastAPI


@pytest.fixture
async def app_keys(app: FastAPI) -> dict[str, dict[str, str]]:
    keys = {}
    for role in ROLES:
        issued = await issue_workspace_key(app.state.db, role, role)
        keys[role] = {"Authorization": f"Bearer {issued.plaintext}"}
    return keys


@pytest.fixture
async def sender(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client without a credential, as a webhook sender calls."""
    async for client in anonymous(app):
        yield client
