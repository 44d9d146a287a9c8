"""The clients and settings every step of a process shares, opened and closed together."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx

from towpath.steps.execution import EngineServices

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from towpath.config import Settings


@asynccontextmanager
async def engine_services(settings: Settings) -> AsyncIterator[EngineServices]:
    async with httpx.AsyncClient(follow_redirects=True) as http:
        yield EngineServices(
            http=http, llm_base_url=settings.llm_base_url, llm_api_key=settings.llm_api_key
        )
