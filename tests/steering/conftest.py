"""Approval workflows and the callers who decide them, through the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


@dataclass(frozen=True)
class Caller:
    """An API key: its principal string and the headers that authenticate as it."""

    principal: str
    headers: dict[str, str]


async def new_key(app: FastAPI, role: str = "operator", name: str = "desk") -> Caller:
    issued = await issue_workspace_key(app.state.db, name, role)
    return Caller(f"key:{issued.key.id}", {"Authorization": f"Bearer {issued.plaintext}"})


def approval(**config: Any) -> dict[str, Any]:
    """A `review` approval followed by `after`; `rejected` leads to `declined`."""
    return {
        "nodes": [
            node("review", "approval", {"message": "ship it?", **config}),
            node("after", "transform", {"output": {"shipped": True}}),
            node("declined", "transform", {"output": {"shipped": False}}),
        ],
        "edges": [edge("review", "after"), edge("review", "declined", "rejected")],
    }


async def waiting_run(client: httpx.AsyncClient, **config: Any) -> str:
    run = await start(client, await publish(client, approval(**config)))
    await wait_for(client, run["id"], "waiting")
    return str(run["id"])


async def decide(
    client: httpx.AsyncClient, run_id: str, caller: Caller | None, body: dict[str, Any]
) -> httpx.Response:
    headers = caller.headers if caller else None
    return await client.post(f"{API}/runs/{run_id}/approve", json=body, headers=headers)
