"""Retrying a failed run: failed steps run again, completed ones keep their output, the
run ends again, however it failed and however often it is retried."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, wait_for

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer


def _flaky_loop(echo_server: EchoServer, key: str) -> dict[str, Any]:
    """A for_each whose items call an endpoint that fails the first call for each item."""
    inner = {
        "type": "http_request",
        "config": {"url": f"{echo_server.url}/flaky/{key}-{{{{ item }}}}?failures=1"},
    }
    return {
        "nodes": [
            node("each", "for_each", {"items": "{{ input.items }}", "step": inner}),
            node("after", "transform", {"output": {"count": "{{ each | length }}"}}),
        ],
        "edges": [edge("each", "after")],
    }


async def test_retry_of_a_failed_for_each_runs_its_items_again(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    workflow_id = await publish(client, _flaky_loop(echo_server, uuid.uuid4().hex))
    run = await start(client, workflow_id, {"items": [1]})
    failed = await wait_for(client, run["id"], "completed", "failed")
    assert failed["status"] == "failed", failed

    retried = await client.post(f"{API}/runs/{run['id']}/retry")
    assert retried.status_code == 200, retried.text
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert done["context"]["each"][0]["body"]["calls"] == 2
    assert done["context"]["after"] == {"count": 1}
    await event_types(client, run["id"])  # seq stays gap-free


async def test_retry_of_a_run_that_timed_out_gives_it_its_time_again(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [node("wait", "delay", {"seconds": 3})],
        "edges": [],
        "timeout_seconds": 1.5,
    }
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    failed = await wait_for(client, run["id"], "completed", "failed")
    assert failed["status"] == "failed"
    assert "timeout" in failed["error"]

    retried = await client.post(f"{API}/runs/{run['id']}/retry")
    assert retried.status_code == 200, retried.text
    again = await wait_for(client, run["id"], "completed", "failed")

    # The retried run gets its 1.5 s again; it does not fail at once for the time its
    # first attempt took.
    assert again["status"] == "failed"
    events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
    retried_at = next(e["timestamp"] for e in events if e["event_type"] == "run.retried")
    failed_at = [e["timestamp"] for e in events if e["event_type"] == "run.failed"][-1]
    ran_for = datetime.fromisoformat(failed_at) - datetime.fromisoformat(retried_at)
    assert ran_for.total_seconds() >= 1.4, f"the retried run failed after {ran_for}"
