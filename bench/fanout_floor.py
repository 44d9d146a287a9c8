"""The floor of live fan-out on this machine: a bare asyncio server (uvloop's loop, as
`towpath serve` runs) that holds the same number of WebSocket clients as a `bench.events`
round and writes each of them the same bytes at once, one write per client per burst,
with no routing, no database and no application. `bench.events` runs it after each
round, with the same client processes, so the round's delay can be read against it.

    .venv/bin/python -m bench.fanout_floor --port P --sockets N --bursts B --interval S

Each burst is `--events` text frames of about `--frame-bytes` bytes, each stamped with the
moment the burst began, as a transaction stamps its events.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import cast

from towpath.events.frames import text_frame

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Client(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, though they are one.
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        if self.upgraded:
            return  # pongs and the client's close: not read for meaning
        self.buffer += data
        head, found, _ = self.buffer.partition(b"\r\n\r\n")
        if not found:
            return
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + GUID, usedforsecurity=False).digest())
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + accept
            + b"\r\n\r\n"
            + text_frame('{"type":"snapshot"}')
        )
        self.upgraded = True
        self.server.joined(self)


class Server:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.clients: list[Client] = []
        self.all_joined = asyncio.get_running_loop().create_future()

    def joined(self, client: Client) -> None:
        self.clients.append(client)
        if len(self.clients) == self.args.sockets and not self.all_joined.done():
            self.all_joined.set_result(None)

    def burst(self, first_seq: int) -> bytes:
        stamp = datetime.now(UTC).isoformat()
        pad = "x" * max(self.args.frame_bytes - 120, 0)
        return b"".join(
            text_frame(
                json.dumps({"type": "event", "seq": first_seq + i, "timestamp": stamp, "data": pad})
            )
            for i in range(self.args.events)
        )

    async def run(self) -> None:
        await self.all_joined
        await asyncio.sleep(1.0)
        for n in range(self.args.bursts):
            data = self.burst(n * self.args.events + 1)
            for client in self.clients:
                if client.transport is not None and not client.transport.is_closing():
                    client.transport.write(data)
            await asyncio.sleep(self.args.interval)
        for client in self.clients:
            if client.transport is not None:
                client.transport.write(b"\x88\x02\x03\xe8")
                client.transport.close()


async def main(args: argparse.Namespace) -> None:
    server = Server(args)
    listening = await asyncio.get_running_loop().create_server(
        lambda: Client(server), "127.0.0.1", args.port, backlog=4096
    )
    print("listening", flush=True)
    async with listening:
        await server.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sockets", type=int, required=True)
    parser.add_argument("--bursts", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--events", type=int, default=9)
    parser.add_argument("--frame-bytes", type=int, default=330)
    parsed = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(parsed))
    else:
        uvloop.run(main(parsed))
