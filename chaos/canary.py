"""The abuse scenario's listeners, in a process of their own.

    python -m chaos.canary CANARY_PORT HELPER_PORT PAYLOADS_FILE MARKER

- The canary listens on every address (0.0.0.0 and ::) at CANARY_PORT and counts the
  TCP connections it accepts: no step, agent call, health check or webhook delivery may
  ever make one.
- The helper, on 127.0.0.1:HELPER_PORT, answers `/to/<url>` with a redirect to <url>,
  `/payload/<i>` with `{"p": payload i}` (a step output carrying an injection), and
  `/_canary` with `{"connections": n}`.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

from aiohttp import web


def payloads(path: str, marker: str) -> list[str]:
    lines = Path(path).read_text().splitlines()
    return [line.replace("MARKER", marker) for line in lines if line and not line.startswith("#")]


async def main(canary_port: int, helper_port: int, found: list[str]) -> None:
    connections = 0

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
        writer.close()

    v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    v6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    v6.bind(("::", canary_port))
    servers = [
        await asyncio.start_server(accepted, "0.0.0.0", canary_port),  # noqa: S104 - a trap on every address
        await asyncio.start_server(accepted, sock=v6),
    ]

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.path_qs.removeprefix("/to/"))

    async def payload(request: web.Request) -> web.Response:
        return web.json_response({"p": found[int(request.match_info["i"])]})

    async def canary(_: web.Request) -> web.Response:
        return web.json_response({"connections": connections})

    app = web.Application()
    app.router.add_get("/to/{tail:.*}", redirect)
    app.router.add_post("/to/{tail:.*}", redirect)
    app.router.add_get("/payload/{i}", payload)
    app.router.add_get("/_canary", canary)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", helper_port).start()
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    ports = int(sys.argv[1]), int(sys.argv[2])
    asyncio.run(main(*ports, payloads(sys.argv[3], sys.argv[4])))
