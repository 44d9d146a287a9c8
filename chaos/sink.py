"""A counting HTTP sink, in a process of its own: every request is an attempt, every
distinct `Idempotency-Key` one side effect.

    python -m chaos.sink PORT [MAX_DELAY_MS]

Each answer waits a random 0..MAX_DELAY_MS, so that a worker killed at a random moment
is often killed with calls in flight. `GET /_counts` answers `{"keys": {key: requests}}`;
a request without the header counts under "", and `senders` gives each key's
requests' source ports (`chaos.processes.owner` finds the process from one). Under `/hold/`, the first request of each
key is held until `POST /_release/{key}`; every answer says `{"n": requests of its key so
far}`.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections import Counter

from aiohttp import web


def make_app(max_delay_ms: float) -> web.Application:
    counts: Counter[str] = Counter()
    held: dict[str, asyncio.Event] = {}
    senders: dict[str, list[int]] = {}

    async def counts_view(_: web.Request) -> web.Response:
        return web.json_response({"keys": dict(counts), "senders": senders})

    async def effect(request: web.Request) -> web.Response:
        await request.read()
        key = request.headers.get("Idempotency-Key", "")
        counts[key] += 1
        peer = request.transport.get_extra_info("peername") if request.transport else None
        senders.setdefault(key, []).append(peer[1] if peer else 0)
        n = counts[key]
        if request.path.startswith("/hold/") and n == 1:
            await held.setdefault(key, asyncio.Event()).wait()
        await asyncio.sleep(random.uniform(0, max_delay_ms) / 1000)
        return web.json_response({"n": n})

    async def release(request: web.Request) -> web.Response:
        held.setdefault(request.match_info["key"], asyncio.Event()).set()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/_counts", counts_view)
    app.router.add_post("/_release/{key}", release)
    app.router.add_route("*", "/{tail:.*}", effect)
    return app


if __name__ == "__main__":
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    web.run_app(make_app(delay), host="127.0.0.1", port=int(sys.argv[1]), print=None)
