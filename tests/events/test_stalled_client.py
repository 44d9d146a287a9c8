"""A client that takes no data at all while messages wait is dropped after the send
timeout, and its subscription freed; the run goes on without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.events.clients import approve
from tests.events.test_slow_client import burst_run, server, stalling_socket
from tests.runs import wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx

    from tests.events.conftest import LiveServer
    from towpath.config import Settings

__all__ = ["server"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stream_send_timeout_seconds": 0.4})


async def test_a_client_that_stops_reading_is_dropped(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await burst_run(client)
    async with stalling_socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        await ws.message()
        await approve(client, run_id)
        await wait_for(client, run_id, "completed", seconds=30)
        # Still connected, never reading: the server lets it go.
        await eventually(lambda: server.hub.subscriber_count() == 0, 5.0)
