"""Step calls are dealt over several small pools, each call to the least busy one."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpcore
import httpx

from towpath.steps.egress import EgressPolicy, GuardedBackend
from towpath.steps.http_pools import SpreadTransport

if TYPE_CHECKING:
    from tests.servers import EchoServer


def _client(pools: int, connections: int) -> httpx.AsyncClient:
    backend = GuardedBackend(EgressPolicy.parse(["127.0.0.1"]))
    transports = []
    for _ in range(pools):
        transport = httpx.AsyncHTTPTransport()
        transport._pool = httpcore.AsyncConnectionPool(
            max_connections=connections, network_backend=backend
        )
        transports.append(transport)
    return httpx.AsyncClient(transport=SpreadTransport(transports))


async def test_a_slow_call_does_not_hold_back_the_next_while_a_pool_is_free(
    echo_server: EchoServer,
) -> None:
    async with _client(pools=2, connections=1) as client:
        slow = asyncio.create_task(client.get(f"{echo_server.url}/slow", params={"seconds": 3}))
        await asyncio.sleep(0.2)  # the slow call has taken its pool's one connection
        began = time.monotonic()
        quick = await client.get(f"{echo_server.url}/echo")
        took = time.monotonic() - began
        slow.cancel()

    assert quick.status_code == 200
    # In the slow call's pool it would have waited the slow call's 3 s out.
    assert took < 2


async def test_a_pool_is_free_again_once_its_answer_is_read(echo_server: EchoServer) -> None:
    async with _client(pools=2, connections=1) as client:
        # Each answer read and closed hands its pool back: a leaked count would send
        # every later call to the other pool, where the held one below would block it.
        for _ in range(5):
            assert (await client.get(f"{echo_server.url}/echo")).status_code == 200
        held = await client.send(
            client.build_request("GET", f"{echo_server.url}/echo"), stream=True
        )
        took = []
        for _ in range(2):
            began = time.monotonic()
            answer = await asyncio.wait_for(client.get(f"{echo_server.url}/echo"), timeout=5)
            took.append(time.monotonic() - began)
            assert answer.status_code == 200
        await held.aclose()

    assert max(took) < 2
