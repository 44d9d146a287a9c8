"""`towpath worker`: a process that only executes runs, stopping cleanly on a signal."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING

from towpath.engine.runner import engine_running
from towpath.steps.catalog import default_registry
from towpath.storage.database import Database

if TYPE_CHECKING:
    from towpath.config import Settings


async def run_worker_process(settings: Settings) -> None:
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with engine_running(db, default_registry(), settings, with_worker=True):
            await stop.wait()
    finally:
        await db.dispose()
