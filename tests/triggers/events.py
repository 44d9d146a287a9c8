"""Helpers for event trigger tests: workflows that wait for events, subscriptions, versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.runs import API

if TYPE_CHECKING:
    import httpx

SUBSCRIPTIONS = f"{API}/triggers/events"
EVENTS = f"{API}/events"


def echo(tag: str) -> dict[str, Any]:
    """One transform step whose output shows the input and which version ran."""
    output = {"seen": "{{ input }}", "version": tag}
    return {"nodes": [node("echo", "transform", {"output": output})], "edges": []}


def waits_for(name: str, key: str | None = None) -> dict[str, Any]:
    config = {"event_name": name, **({"key": key} if key is not None else {})}
    return {"nodes": [node("wait", "wait_for_event", config)], "edges": []}


async def subscribe(
    client: httpx.AsyncClient, workflow_id: str, event_name: str = "order.paid", **fields: Any
) -> dict[str, Any]:
    body = {"name": "sub", "event_name": event_name, "workflow_id": workflow_id, **fields}
    created = await client.post(SUBSCRIPTIONS, json=body)
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


async def new_version(
    client: httpx.AsyncClient, workflow_id: str, definition: dict[str, Any]
) -> str:
    """Publish the next version of `workflow_id`'s lineage with this definition."""
    copy = await client.post(f"{API}/workflows/{workflow_id}/duplicate")
    assert copy.status_code == 201, copy.text
    version_id: str = copy.json()["id"]
    changed = await client.put(f"{API}/workflows/{version_id}", json={"definition": definition})
    assert changed.status_code == 200, changed.text
    published = await client.post(f"{API}/workflows/{version_id}/publish")
    assert published.status_code == 200, published.text
    return version_id


async def post_event(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    posted = await client.post(EVENTS, json=body)
    assert posted.status_code == 200, posted.text
    found: dict[str, Any] = posted.json()
    return found
