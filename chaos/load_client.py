"""One load process of scenario 9; prints one JSON line of what it measured.

    python -m chaos.load_client starts|reads|sockets BASE KEY WORKFLOW_ID SECONDS N

- starts: N connections starting runs of WORKFLOW_ID; latencies in ms.
- reads: N connections reading the run list and single runs; latencies in ms.
- sockets: N WebSocket clients on /ws/stream; each event's delay (receipt less its
  commit `timestamp`) in ms.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime

import httpx
from websockets.asyncio.client import connect

API = "/api/v1"


async def requests(
    role: str, base: str, key: str, workflow_id: str, seconds: float, n: int
) -> dict[str, object]:
    took: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=n)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=30
    ) as http:
        deadline = time.monotonic() + seconds
        seen: list[str] = []

        async def loop() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                began = time.perf_counter()
                if role == "starts":
                    answer = await http.post(
                        f"{API}/workflows/{workflow_id}/run", json={"input": {}}
                    )
                elif seen:
                    answer = await http.get(f"{API}/runs/{seen[-1]}")
                else:
                    answer = await http.get(f"{API}/runs?per_page=20")
                    seen.extend(r["id"] for r in answer.json()[:1] if answer.status_code == 200)
                took.append((time.perf_counter() - began) * 1000)
                errors += answer.status_code >= 400

        await asyncio.gather(*(loop() for _ in range(n)))
    return {"role": role, "ms": took, "errors": errors, "seconds": seconds}


async def sockets(base: str, key: str, seconds: float, n: int) -> dict[str, object]:
    delays: list[float] = []
    url = base.replace("http://", "ws://") + "/ws/stream"
    deadline = time.monotonic() + seconds

    async def client() -> None:
        async with connect(
            url,
            additional_headers={"Authorization": f"Bearer {key}"},
            open_timeout=60,
            max_queue=None,
        ) as ws:
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    return
                message = json.loads(raw)
                if message.get("type") == "event":
                    sent = datetime.fromisoformat(message["timestamp"].replace("Z", "+00:00"))
                    delays.append((datetime.now(UTC) - sent).total_seconds() * 1000)

    done = await asyncio.gather(*(client() for _ in range(n)), return_exceptions=True)
    return {
        "role": "sockets",
        "ms": delays,
        "errors": sum(isinstance(d, BaseException) for d in done),
    }


if __name__ == "__main__":
    role, base, key, workflow_id, seconds, n = sys.argv[1:7]
    if role == "sockets":
        found = asyncio.run(sockets(base, key, float(seconds), int(n)))
    else:
        found = asyncio.run(requests(role, base, key, workflow_id, float(seconds), int(n)))
    print(json.dumps(found))
