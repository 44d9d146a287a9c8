"""Workflows for retention tests: one that ends at once, one that waits for a person, and
a parent that starts a waiting child without waiting for it (the parent ends, the child
lives on)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from towpath.storage.models import RunEvent, RunLog, StepRun

if TYPE_CHECKING:
    import httpx

    from towpath.storage.database import Database

NOOP = {"nodes": [node("t", "transform", {"output": {"ok": True}})], "edges": []}
WAITS = {"nodes": [node("ask", "approval", {"message": "go on?"})], "edges": []}


def starts(child_id: str, *, wait: bool) -> dict[str, Any]:
    config = {"workflow_id": child_id, "wait": wait}
    return {"nodes": [node("call", "sub_workflow", config)], "edges": []}


async def finished_run(client: httpx.AsyncClient, workflow_id: str) -> str:
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "completed")
    return str(run["id"])


async def runs_of(client: httpx.AsyncClient, workflow_id: str) -> list[dict[str, Any]]:
    listed = await client.get(f"{API}/runs", params={"workflow_id": workflow_id})
    found: list[dict[str, Any]] = listed.json()
    return found


async def rows_of(db: Database, run_ids: list[str]) -> int:
    """Steps, events and logs the runs still hold in the database."""
    total = 0
    async with db.read() as session:
        for table in (StepRun, RunEvent, RunLog):
            stmt = select(func.count()).select_from(table).where(table.run_id.in_(run_ids))
            total += int(await session.scalar(stmt) or 0)
    return total


async def audit(client: httpx.AsyncClient, action: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        await client.get(f"{API}/audit", params={"action": action, "per_page": 100})
    ).json()
    return found


async def live_child_tree(client: httpx.AsyncClient) -> tuple[str, str]:
    """A completed parent run whose child still waits: (parent id, child id)."""
    waits = await publish(client, WAITS, name="waits")
    parent_wf = await publish(client, starts(waits, wait=False), name="forks")
    parent = await start(client, parent_wf)
    await wait_for(client, parent["id"], "completed")
    [child] = await runs_of(client, waits)
    child = await wait_for(client, child["id"], "waiting")
    assert child["parent_run_id"] == parent["id"]
    return str(parent["id"]), str(child["id"])
