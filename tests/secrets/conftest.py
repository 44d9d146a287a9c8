"""A live server for watching runs over a WebSocket, with timers due within a test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.events.conftest import LiveServer, serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from towpath.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"poll_seconds": 0.05, "stream_heartbeat_seconds": 0.5})


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[LiveServer]:
    async with serving(app) as live:
        yield live
