"""Live events reach clients the same whether frames go out encoded once for all (under
`towpath serve`) or as ASGI messages (any other server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from tests.events.clients import approve, gate, history, socket, until_closed
from tests.events.conftest import serving
from tests.runs import publish, start, wait_for
from towpath.events.frames import text_frame

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_a_frame_reads_back_as_the_text_it_was_made_of(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    reader = StreamReader()
    reader.feed_data(text_frame(text))
    parsing = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parsing)
    except StopIteration as done:
        frame: Frame = done.value
    assert frame.opcode is Opcode.TEXT
    assert frame.fin
    assert bytes(frame.data).decode() == text


@pytest.mark.parametrize("plain", [False, True], ids=["towpath-serve", "plain-uvicorn"])
async def test_a_run_stream_is_the_same_under_either_protocol(
    app: FastAPI, client: httpx.AsyncClient, auth_headers: dict[str, str], plain: bool
) -> None:
    run_id = (await start(client, await publish(client, gate())))["id"]
    await wait_for(client, run_id, "waiting")
    async with (
        serving(app, plain=plain) as server,
        socket(server, f"/ws/runs/{run_id}", auth_headers) as ws,
    ):
        await approve(client, run_id)
        received = await until_closed(ws)
        assert ws.close_code == 1000
    stored = await history(client, run_id)
    assert received[0]["type"] == "snapshot"
    after = received[0]["seq"]
    assert [m["seq"] for m in received[1:]] == [e["seq"] for e in stored[after:]]
    assert [m["event_type"] for m in received[1:]] == [e["event_type"] for e in stored[after:]]
