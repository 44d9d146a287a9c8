"""Outputs a database cannot hold (a NUL character, a number JSON has no word for, nesting
deeper than can be read back) fail their step with a clear error: the run ends, on every
database, and every read of it answers."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

import pytest

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer

DEPTH = 300


async def test_a_response_with_a_nul_character_still_ends_the_run(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    url = f"{echo_server.url}/raw?content_type=text/plain&body=a%00b"
    definition = {"nodes": [node("call", "http_request", {"url": url})], "edges": []}
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id)
    done = await wait_for(client, run["id"], "completed", "failed")

    # Either outcome is the user's to act on; a run that never ends is not.
    if done["status"] == "completed":
        assert done["context"]["call"]["body"] in ("a\u0000b", "ab", "a\ufffdb")
    else:
        assert done["error"]


@pytest.mark.parametrize("template", ["{{ 'nan' | float }}", "{{ 1e308 * 10 }}"])
async def test_a_step_output_that_is_not_json_still_ends_the_run(
    client: httpx.AsyncClient, template: str
) -> None:
    definition = {"nodes": [node("calc", "transform", {"output": {"x": template}})], "edges": []}
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id)
    done = await wait_for(client, run["id"], "completed", "failed")

    # Failing the step would be the clearest answer; a run that never ends is wrong.
    if done["status"] == "failed":
        assert "calc" in done["error"]
    for path in ("", "/steps", "/events"):
        read = await client.get(f"{API}/runs/{run['id']}{path}")
        assert read.status_code == 200, (path, read.text)


async def test_a_deep_response_leaves_a_run_that_can_be_read(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    deep = "[" * DEPTH + "]" * DEPTH
    query = urllib.parse.urlencode({"content_type": "application/json", "body": deep})
    definition = {
        "nodes": [node("call", "http_request", {"url": f"{echo_server.url}/raw?{query}"})],
        "edges": [],
    }
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id)

    async def ended() -> bool:
        read = await client.get(f"{API}/runs/{run['id']}")
        assert read.status_code == 200, read.text
        return read.json()["status"] in ("completed", "failed")

    await eventually(ended, 15, "the run ended")

    for path in ("", "/steps", "/events"):
        read = await client.get(f"{API}/runs/{run['id']}{path}")
        assert read.status_code == 200, (path, read.text)
