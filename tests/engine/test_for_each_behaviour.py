"""for_each as users lean on it: items from an earlier step, item and index in nested
templates, a failure cancels what has not run, retries per item."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer


async def _items(client: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    steps = (await client.get(f"{API}/runs/{run_id}/steps")).json()
    return sorted((s for s in steps if s["item_index"] is not None), key=lambda s: s["item_index"])


async def test_items_from_an_earlier_step_with_nested_templates(
    client: httpx.AsyncClient,
) -> None:
    inner = {
        "type": "transform",
        "config": {
            "output": {
                "label": "{{ index }}:{{ item.name | upper }}",
                "tags": ["{{ item.tags | join('+') }}", "{{ prep.prefix }}"],
                "deep": {"i": "{{ index }}", "same": "{{ item }}"},
            }
        },
    }
    definition = {
        "nodes": [
            node("prep", "transform", {"output": {"list": "{{ input.people }}", "prefix": "p"}}),
            node("each", "for_each", {"items": "{{ prep.list }}", "step": inner, "concurrency": 1}),
        ],
        "edges": [edge("prep", "each")],
    }
    people = [{"name": "ada", "tags": ["x", "y"]}, {"name": "bo", "tags": []}]
    run = await start(client, await publish(client, definition), {"people": people})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert done["context"]["each"] == [
        {"label": "0:ADA", "tags": ["x+y", "p"], "deep": {"i": 0, "same": people[0]}},
        {"label": "1:BO", "tags": ["", "p"], "deep": {"i": 1, "same": people[1]}},
    ]


async def test_a_failing_item_cancels_the_items_not_yet_run(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    inner = {"type": "http_request", "config": {"url": f"{echo_server.url}/status/{{{{ item }}}}"}}
    loop = {"items": "{{ input.codes }}", "step": inner, "concurrency": 1}
    definition = {"nodes": [node("each", "for_each", loop)], "edges": []}
    run = await start(client, await publish(client, definition), {"codes": [200, 500, 200, 200]})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "item 1" in done["error"]
    items = await _items(client, run["id"])
    assert [i["status"] for i in items] == ["completed", "failed", "cancelled", "cancelled"]
    assert len(echo_server.requests) == 2
    types = await event_types(client, run["id"])
    assert types[-1] == "run.failed"


async def test_an_item_is_retried_by_its_own_policy(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    key = uuid.uuid4().hex
    url = f"{echo_server.url}/flaky/{key}-{{{{ index }}}}?failures=1"
    retry = {"max_attempts": 2, "backoff_seconds": 0.05, "max_backoff_seconds": 0.05}
    inner = {"type": "http_request", "config": {"url": url, "retry": retry}}
    definition = {
        "nodes": [node("each", "for_each", {"items": "{{ input.items }}", "step": inner})],
        "edges": [],
    }
    run = await start(client, await publish(client, definition), {"items": ["a", "b", "c"]})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert [o["body"]["calls"] for o in done["context"]["each"]] == [2, 2, 2]
    items = await _items(client, run["id"])
    assert [len(i["attempts"]) for i in items] == [2, 2, 2]
    steps = await steps_by_id(client, run["id"])
    assert steps["each"]["status"] == "completed"
