"""for_each benchmark: seconds for a loop of 1,000 and of 10,000 items, which should be
about ten times as long, and how another client's reads fare meanwhile.

    .venv/bin/python -m bench.for_each [--postgres URL] [--skip-postgres] [--items 1000 10000]

Each loop runs in a fresh database, engine and API in this process; a client polls the
run over the API every 50 ms and counts the answers that were not 200.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx

from bench.common import DEFAULT_POSTGRES, drop_postgres, fresh_postgres, line, migrate, sqlite_url
from towpath.app import create_app
from towpath.config import Settings
from towpath.services.api_keys import issue_workspace_key

INNER = {
    # Runs inline, in the transaction that made it ready.
    "transform": {"type": "transform", "config": {"output": {"x": "{{ item }}"}}},
    # A durable timer: parked, claimed again when due; several transactions per item.
    "delay": {"type": "delay", "config": {"seconds": 0.001}},
}


def _loop(inner: dict[str, Any]) -> dict[str, Any]:
    config = {"items": "{{ input.items }}", "step": inner, "concurrency": 5}
    node = {"id": "each", "type": "for_each", "data": {"label": "each", "config": config}}
    return {"nodes": [node], "edges": []}


async def one_loop(url: str, items: int, inner: dict[str, Any]) -> tuple[float, int, float]:
    """Seconds to complete the loop, polls not answered 200, slowest poll in seconds."""
    settings = Settings(
        database_url=url,
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
        log_level="warning",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        key = await issue_workspace_key(app.state.db, "bench", "admin")
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = {"Authorization": f"Bearer {key.plaintext}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers, timeout=600
        ) as client:
            body = {"name": "loop", "definition": _loop(inner)}
            workflow_id = (await client.post("/api/v1/workflows", json=body)).json()["id"]
            await client.post(f"/api/v1/workflows/{workflow_id}/publish")
            began = time.perf_counter()
            started = await client.post(
                f"/api/v1/workflows/{workflow_id}/run",
                json={"input": {"items": list(range(items))}},
            )
            run_id = started.json()["id"]
            refused, slowest = 0, 0.0
            while True:
                asked = time.perf_counter()
                answer = await client.get(f"/api/v1/runs/{run_id}")
                slowest = max(slowest, time.perf_counter() - asked)
                if answer.status_code != 200:
                    refused += 1
                elif answer.json()["status"] in ("completed", "failed"):
                    if answer.json()["status"] != "completed":
                        raise RuntimeError(answer.json()["error"])
                    return time.perf_counter() - began, refused, slowest
                await asyncio.sleep(0.05)


async def measure(name: str, fresh: Any, items: list[int]) -> None:
    print(name)
    for kind, inner in INNER.items():
        seconds = {}
        for count in items:
            url, dispose = await fresh()
            try:
                await migrate(url)
                took, refused, slowest = await one_loop(url, count, inner)
            finally:
                await dispose()
            seconds[count] = took
            line(
                f"for_each of {count:,} {kind} items",
                f"{took:.2f} s",
                f"{took / count * 1000:.2f} ms/item; polls not 200: {refused};"
                f" slowest poll {slowest:.2f} s",
            )
        if len(items) == 2:
            small, large = items
            ratio = seconds[large] / seconds[small]
            line(f"  {large:,} / {small:,} items", f"{ratio:.1f}x", f"ideal {large / small:.0f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--items", type=int, nargs="+", default=[1000, 10_000])
    args = parser.parse_args()

    async def sqlite() -> tuple[str, Any]:
        async def nothing() -> None:
            return None

        return sqlite_url(), nothing

    async def postgres() -> tuple[str, Any]:
        url = await fresh_postgres(args.postgres)
        return url, lambda: drop_postgres(args.postgres, url)

    await measure("SQLite (WAL, synchronous=FULL)", sqlite, args.items)
    if not args.skip_postgres:
        await measure("PostgreSQL (local)", postgres, args.items)


if __name__ == "__main__":
    asyncio.run(main())
