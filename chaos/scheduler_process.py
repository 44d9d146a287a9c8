"""One scheduler process of scenario 6, its clock injected: it takes passes at
START, START + 1 min, ... (TICKS of them), each after a random pause of up to 20 ms, so
that three such processes meet each tick in every order.

    python -m chaos.scheduler_process DATABASE_URL START TICKS
"""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import datetime, timedelta

from towpath.config import Settings
from towpath.engine.runner import engine_running
from towpath.steps.catalog import default_registry
from towpath.storage.database import Database
from towpath.triggers.scheduler import Scheduler


async def main(url: str, start: datetime, ticks: int) -> None:
    db = Database(url)
    now = start
    try:
        async with engine_running(
            db, default_registry(), Settings(database_url=url), with_worker=False
        ) as runtime:
            scheduler = Scheduler(runtime, lambda: now)
            for _ in range(ticks):
                await asyncio.sleep(random.uniform(0, 0.02))
                await scheduler.run_once()
                now += timedelta(minutes=1)
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])))
