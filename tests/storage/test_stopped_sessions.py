"""A process stopped in the middle of a transaction (SIGSTOP, a debugger, a frozen host)
does not hold its row locks forever: PostgreSQL ends the session after a bound, so another
worker can take its steps over once their leases run out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from towpath.engine.drivers import connect_driver
from towpath.storage.database import POSTGRES_SESSION_SETTINGS

if TYPE_CHECKING:
    from towpath.storage.database import Database

SETTING = "idle_in_transaction_session_timeout"


async def test_every_connection_of_towpath_has_the_bound(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite's one writer has no sessions to leave open")
    async with db.read() as session:
        shown = await session.scalar(text(f"SHOW {SETTING}"))
    driver = await connect_driver(db.url, "FULL")
    try:
        pool = driver._pool  # type: ignore[attr-defined]
        async with pool.acquire() as conn:
            from_engine = await conn.fetchval(f"SHOW {SETTING}")
    finally:
        await driver.close()

    assert shown == from_engine == "30s"
    assert POSTGRES_SESSION_SETTINGS[SETTING] == "30000"
