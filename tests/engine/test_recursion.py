"""A workflow may call itself through sub_workflow, as recursion with a base case does,
where the server allows recursion (TOWPATH_ALLOW_RECURSIVE_WORKFLOWS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.factories import edge, node
from tests.runs import API, start, wait_for

if TYPE_CHECKING:
    import httpx

    from towpath.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_recursive_workflows": True})


async def test_a_workflow_that_calls_itself_counts_down(client: httpx.AsyncClient) -> None:
    created = (await client.post(f"{API}/workflows", json={"name": "countdown"})).json()
    workflow_id = created["id"]
    definition = {
        "nodes": [
            node("more", "condition", {"expression": "input.n > 0"}),
            node(
                "again",
                "sub_workflow",
                {"workflow_id": workflow_id, "input": {"n": "{{ input.n - 1 }}"}},
            ),
            node("depth", "transform", {"output": {"n": "{{ input.n }}"}}),
        ],
        "edges": [edge("more", "again", "true"), edge("more", "depth", "false")],
    }
    updated = await client.put(f"{API}/workflows/{workflow_id}", json={"definition": definition})
    assert updated.status_code == 200, updated.text
    assert (await client.post(f"{API}/workflows/{workflow_id}/publish")).status_code == 200

    run = await start(client, workflow_id, {"n": 3})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    output = done["context"]["again"]["output"]
    for _ in range(2):
        output = output["again"]["output"]
    assert output["depth"] == {"n": 0}
    listed = await client.get(f"{API}/runs", params={"workflow_id": workflow_id})
    assert listed.headers["X-Total-Count"] == "4"
