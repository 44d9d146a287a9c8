"""A database that goes silent (a partition, a host gone without a reset: no answer and no
closing) holds nothing forever: a request is answered 503 once its statement has waited
`TOWPATH_DATABASE_COMMAND_TIMEOUT_SECONDS`, and the engine's transaction fails as the
database being away, which it rides out.

The app reaches PostgreSQL through a TCP forwarder that the test freezes: whatever is sent
either way is lost, and no connection is closed."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.api.test_database_away import Forwarder, forwarding
from tests.runs import API
from tests.waiting import eventually
from towpath.config import Settings
from towpath.engine.postgres import PostgresDriver
from towpath.engine.sql import fetch
from towpath.storage.unavailable import database_away

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Generator

    import httpx

    from towpath.engine.sql import Op

# Long enough for a loaded machine to connect and answer within it.
BOUND = 3.0


@pytest.fixture
async def forwarder(database_url: str) -> AsyncIterator[Forwarder]:
    async with forwarding(database_url, "a network connection to freeze") as found:
        yield found


def through(database_url: str, forwarder: Forwarder) -> str:
    url = make_url(database_url).set(host="127.0.0.1", port=forwarder.port)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def settings(database_url: str, forwarder: Forwarder) -> Settings:
    return Settings(
        database_url=through(database_url, forwarder),
        database_command_timeout_seconds=BOUND,
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
    )


async def test_a_request_to_a_silent_database_is_a_503_after_the_bound(
    client: httpx.AsyncClient, forwarder: Forwarder
) -> None:
    async def answered() -> bool:
        return (await client.get(f"{API}/workflows")).status_code == 200

    await eventually(answered, 30, "the API answering through the forwarder")

    forwarder.frozen = True
    began = time.monotonic()
    # Without the bound, this waits for as long as the partition lasts.
    answer = await asyncio.wait_for(client.get(f"{API}/workflows"), 30)
    took = time.monotonic() - began

    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["error_code"] == "SERVICE_UNAVAILABLE"
    assert took >= BOUND

    forwarder.frozen = False
    await forwarder.cut()
    await forwarder.start()
    await eventually(answered, 30, "the API answering again once the partition is over")


async def test_an_engine_transaction_on_a_silent_connection_fails_as_the_database_away(
    database_url: str, forwarder: Forwarder
) -> None:
    driver = await PostgresDriver.connect(through(database_url, forwarder), command_timeout=BOUND)

    def clock() -> Generator[Op, Any, Any]:
        rows = yield from fetch("SELECT now()")
        return rows[0][0]

    try:
        assert await driver.run(clock) is not None
        forwarder.frozen = True
        began = time.monotonic()
        # Whichever error it is, it must say the database is away.
        with pytest.raises(Exception) as raised:
            await asyncio.wait_for(driver.run(clock), 30)
        took = time.monotonic() - began
    finally:
        forwarder.frozen = False
        await forwarder.cut()
        await asyncio.wait_for(driver.close(), 30)

    assert database_away(raised.value), repr(raised.value)
    assert BOUND <= took < 25


async def test_a_silent_listening_connection_is_found_out_and_the_listener_told_to_look_again(
    database_url: str, forwarder: Forwarder
) -> None:
    """Notifications sent while the partition lasts are lost: the listener must learn it
    (an empty payload: look again), not wait on a connection that will never speak."""
    driver = await PostgresDriver.connect(through(database_url, forwarder), command_timeout=BOUND)
    driver.listen_keepalive = 0.5
    heard: list[str] = []
    url = make_url(database_url)
    notifier = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        async with driver.notifications("towpath_test_silence", heard.append):

            async def hearing() -> bool:
                await notifier.execute("NOTIFY towpath_test_silence, 'before'")
                return "before" in heard

            await eventually(hearing, 30, "the listener hearing through the forwarder")
            forwarder.frozen = True
            await notifier.execute("NOTIFY towpath_test_silence, 'during'")
            # Longer than a ping and its answer may take: the listener gives the
            # connection up while the partition lasts.
            await asyncio.sleep(3 * driver.listen_keepalive + 1)
            forwarder.frozen = False

            async def told() -> bool:
                return "" in heard

            await eventually(told, 30, "the listener told to look again")
    finally:
        forwarder.frozen = False
        await notifier.close()
        await forwarder.cut()
        await asyncio.wait_for(driver.close(), 30)
