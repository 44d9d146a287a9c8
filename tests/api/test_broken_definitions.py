"""A definition that makes no graph is refused with a clear error, never a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update

from tests.factories import edge, node
from tests.runs import API, publish
from towpath.storage.models import Workflow

if TYPE_CHECKING:
    import httpx

    from towpath.storage.database import Database

GHOST_EDGE = {
    "nodes": [node("a", "transform", {"output": {"x": 1}})],
    "edges": [edge("a", "ghost")],
}


async def test_starting_a_draft_with_an_edge_to_nowhere_is_refused_as_a_draft(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post(f"{API}/workflows", json={"name": "w", "definition": GHOST_EDGE})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    started = await client.post(f"{API}/workflows/{workflow_id}/run", json={"input": {}})
    assert started.status_code == 409, started.text
    assert started.json()["error_code"] == "WORKFLOW_NOT_PUBLISHED"
    runs = await client.get(f"{API}/runs")
    assert runs.headers["x-total-count"] == "0"


async def test_a_published_definition_broken_in_storage_refuses_runs_with_a_422(
    client: httpx.AsyncClient, db: Database
) -> None:
    workflow_id = await publish(
        client, {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}
    )
    # As a definition stored before a rule existed would be.
    async with db.transaction() as session:
        await session.execute(
            update(Workflow).where(Workflow.id == workflow_id).values(definition=GHOST_EDGE)
        )
    started = await client.post(f"{API}/workflows/{workflow_id}/run", json={"input": {}})
    assert started.status_code == 422, started.text
    body = started.json()
    assert body["error_code"] == "WORKFLOW_INVALID"
    assert body["details"]["errors"][0]["path"] == "/edges/0/target"
    runs = await client.get(f"{API}/runs")
    assert runs.headers["x-total-count"] == "0"
