"""A workflow that starts itself again through sub_workflow is refused when published: a
fork bomb (`wait: false`) or a loop through other workflows, named by its node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API, publish

if TYPE_CHECKING:
    import httpx

    from towpath.config import Settings


def _calls(*targets: str, wait: bool = True) -> dict[str, Any]:
    return {
        "nodes": [
            node(f"call{i}", "sub_workflow", {"workflow_id": target, "wait": wait})
            for i, target in enumerate(targets)
        ],
        "edges": [],
    }


async def _draft(client: httpx.AsyncClient, name: str = "wf") -> str:
    created = await client.post(f"{API}/workflows", json={"name": name})
    assert created.status_code == 201, created.text
    workflow_id: str = created.json()["id"]
    return workflow_id


async def _define(client: httpx.AsyncClient, workflow_id: str, definition: dict[str, Any]) -> None:
    updated = await client.put(f"{API}/workflows/{workflow_id}", json={"definition": definition})
    assert updated.status_code == 200, updated.text


async def test_a_fork_bomb_that_starts_itself_twice_is_refused_at_publish(
    client: httpx.AsyncClient,
) -> None:
    bomb = await _draft(client, "bomb")
    await _define(client, bomb, _calls(bomb, bomb, wait=False))

    validated = (await client.post(f"{API}/workflows/{bomb}/validate")).json()
    published = await client.post(f"{API}/workflows/{bomb}/publish")

    assert validated["valid"] is False
    assert [i["code"] for i in validated["issues"]] == ["sub_workflow_cycle"]
    assert validated["issues"][0]["node_id"] == "call0"
    assert published.status_code == 422
    body = published.json()
    assert body["error_code"] == "SUB_WORKFLOW_CYCLE"
    assert body["details"]["node_id"] == "call0"
    assert body["details"]["path"] == [bomb, bomb]
    assert "'call0' starts a run of this workflow" in body["message"]
    workflow = (await client.get(f"{API}/workflows/{bomb}")).json()
    assert workflow["status"] == "draft"
    runs = await client.post(f"{API}/workflows/{bomb}/run", json={"input": {}})
    assert runs.status_code == 409


async def test_a_loop_through_another_workflow_is_refused_naming_the_node(
    client: httpx.AsyncClient,
) -> None:
    first, second = await _draft(client, "first"), await _draft(client, "second")
    await _define(
        client,
        first,
        {"nodes": [node("hand_over", "sub_workflow", {"workflow_id": second})], "edges": []},
    )
    await _define(client, second, _calls(first))
    # `first` is a draft: `second` may be published; `first` then closes the loop.
    assert (await client.post(f"{API}/workflows/{second}/publish")).status_code == 200

    published = await client.post(f"{API}/workflows/{first}/publish")

    assert published.status_code == 422, published.text
    body = published.json()
    assert body["error_code"] == "SUB_WORKFLOW_CYCLE"
    assert body["details"]["node_id"] == "hand_over"
    assert body["details"]["path"] == [first, second, first]
    assert f"through workflow(s) '{second}'" in body["message"]


async def test_a_new_version_that_starts_an_older_version_of_itself_is_refused(
    client: httpx.AsyncClient,
) -> None:
    v1 = await publish(client, {"nodes": [node("t", "transform", {"output": {}})], "edges": []})
    v2 = (await client.post(f"{API}/workflows/{v1}/duplicate")).json()["id"]
    loop = {
        "items": "{{ input.items }}",
        "step": {"type": "sub_workflow", "config": {"workflow_id": v1}},
    }
    await _define(client, v2, {"nodes": [node("each", "for_each", loop)], "edges": []})

    published = await client.post(f"{API}/workflows/{v2}/publish")

    assert published.status_code == 422, published.text
    assert published.json()["details"]["node_id"] == "each"


async def test_calling_other_workflows_without_a_loop_publishes(
    client: httpx.AsyncClient,
) -> None:
    leaf = await publish(client, {"nodes": [node("t", "transform", {"output": {}})], "edges": []})
    middle = await publish(client, _calls(leaf, leaf))
    top = await _draft(client, "top")
    await _define(client, top, _calls(middle, leaf))

    assert (await client.post(f"{API}/workflows/{top}/publish")).status_code == 200


class TestWhereRecursionIsAllowed:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"allow_recursive_workflows": True})

    async def test_a_workflow_that_starts_itself_publishes(self, client: httpx.AsyncClient) -> None:
        again = await _draft(client)
        await _define(client, again, _calls(again))

        assert (await client.post(f"{API}/workflows/{again}/publish")).status_code == 200
