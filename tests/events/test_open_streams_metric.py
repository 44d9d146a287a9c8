"""/metrics counts the streams open now, by kind."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.events.clients import gate, receive, socket
from tests.events.test_sse import sse, waiting_run

if TYPE_CHECKING:
    import httpx

    from tests.events.conftest import LiveServer


async def _open(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    found = re.findall(r'^towpath_open_sockets\{kind="(\w+)"\} (\S+)$', text, re.MULTILINE)
    return {kind: float(value) for kind, value in found}


async def test_open_sockets_and_event_streams_are_counted(
    server: LiveServer, client: httpx.AsyncClient, auth_headers: dict[str, str]
) -> None:
    run_id = await waiting_run(client, gate())
    async with (
        socket(server, f"/ws/runs/{run_id}", auth_headers) as ws,
        sse(server, run_id, auth_headers) as (_, events),
    ):
        assert (await receive(ws))["type"] == "snapshot"
        await anext(events)
        assert await _open(client) == {"websocket": 1.0, "sse": 1.0}
    await server.subscribers_gone()
    assert await _open(client) == {"websocket": 0.0, "sse": 0.0}
