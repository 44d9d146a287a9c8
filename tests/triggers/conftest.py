"""A client without a credential, as a webhook sender calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.triggers.hooks import anonymous

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from fastapi import FastAPI


@pytest.fixture
async def sender(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for client in anonymous(app):
        yield client
