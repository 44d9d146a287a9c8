"""Waiting for a database that does not answer yet: a server or worker started at boot,
or while PostgreSQL restarts, waits for it rather than exiting."""

from __future__ import annotations

import asyncio
import logging
import time

from towpath.storage.database import Database
from towpath.storage.unavailable import database_away

log = logging.getLogger("towpath.storage")
# Between two tries to reach the database; a line is logged every `_LOG_EVERY` seconds of
# waiting.
RETRY_SECONDS = 1.0
_LOG_EVERY = 10.0


async def wait_for_database(url: str) -> None:
    """Return once the database at `url` answers, trying again every `RETRY_SECONDS`."""
    db = Database(url)
    began = time.monotonic()
    logged = -_LOG_EVERY
    try:
        while True:
            try:
                await db.ping()
            except Exception as error:
                if not database_away(error):
                    raise
                waited = time.monotonic() - began
                if waited - logged >= _LOG_EVERY:
                    log.warning(
                        "waiting for the database (%.0f s so far): %s", waited, first_line(error)
                    )
                    logged = waited
                await asyncio.sleep(RETRY_SECONDS)
            else:
                return
    finally:
        await db.dispose()


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
