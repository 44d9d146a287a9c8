"""What a WebSocket connection leaves behind once it closed: nothing the cycle collector
must find. `towpath serve` runs that collector rarely (a full pass holds the event loop
at a thousand clients), so objects of closed connections kept alive by reference cycles
pile up for minutes: a server whose clients come and go grows."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from tests.events.clients import gate, receive, socket
from tests.runs import publish, start, wait_for
from tests.waiting import eventually
from towpath.api.websocket_protocol import CoalescingWebSocketProtocol

if TYPE_CHECKING:
    import httpx

    from tests.events.conftest import LiveServer

CONNECTIONS = 30


def protocols() -> int:
    # By type, not isinstance: a dead weak proxy among the objects raises on isinstance.
    return sum(type(o) is CoalescingWebSocketProtocol for o in gc.get_objects())


async def test_a_closed_connection_is_freed_without_the_cycle_collector(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id: str = (await start(client, await publish(client, gate())))["id"]
    await wait_for(client, run_id, "waiting")
    gc.collect()
    gc.disable()
    try:
        before = protocols()
        for _ in range(CONNECTIONS):
            async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
                await receive(ws)
            async with socket(server, "/ws/stream", auth_headers):
                pass
        await server.subscribers_gone()
        await eventually(lambda: protocols() - before < 3)
    finally:
        gc.enable()
