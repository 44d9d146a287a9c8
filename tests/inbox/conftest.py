"""Callers of several roles, the workflows whose steps wait for them, and a live server
for the inbox's WebSocket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The live server of the stream tests, with timers due within a test.
from tests.events.conftest import server as server
from tests.events.conftest import settings as settings
from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx

    from tests.steering.conftest import Caller


def review(**config: Any) -> dict[str, Any]:
    """`review`, an approval, then `after`."""
    return {
        "nodes": [
            node("review", "approval", {"message": "ship it?", **config}),
            node("after", "transform", {"output": {"shipped": True}}),
        ],
        "edges": [edge("review", "after")],
    }


def asking() -> dict[str, Any]:
    """`ask`, a clarification with one question."""
    question = {"id": "size", "text": "How big?", "type": "number"}
    return {"nodes": [node("ask", "clarification", {"questions": [question]})], "edges": []}


async def waiting(client: httpx.AsyncClient, workflow_id: str) -> str:
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "waiting")
    return str(run["id"])


async def inbox(
    client: httpx.AsyncClient, caller: Caller | None = None, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """The caller's inbox page and its X-Total-Count."""
    headers = caller.headers if caller else None
    listed = await client.get(f"{API}/inbox", params=params, headers=headers)
    assert listed.status_code == 200, listed.text
    return listed.json(), int(listed.headers["X-Total-Count"])


async def publish_review(client: httpx.AsyncClient, **config: Any) -> str:
    return await publish(client, review(**config))
