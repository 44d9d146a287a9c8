"""Live event streams for a process: started and stopped with the application."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from towpath.config import Settings
    from towpath.services.runtime import Runtime


@asynccontextmanager
async def streams_running(
    app: FastAPI, runtime: Runtime, settings: Settings
) -> AsyncIterator[None]:
    yield
