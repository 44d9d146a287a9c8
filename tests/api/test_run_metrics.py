"""One run's metrics: per-step durations, attempts, waits and LLM tokens, in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.factories import node
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx

    from tests.servers import LlmServer
    from towpath.config import Settings


@pytest.fixture
def settings(settings: Settings, llm_server: LlmServer) -> Settings:
    return settings.model_copy(update={"llm_base_url": llm_server.base_url})


async def test_run_metrics_show_steps_attempts_and_llm_tokens(client: httpx.AsyncClient) -> None:
    definition = {
        "nodes": [
            node("ask", "llm", {"model": "m", "prompt": "say three words"}),
            node("t", "transform", {"output": {"usage": {"total_tokens": "many"}}}),
        ],
        "edges": [],
    }
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "completed", "failed")

    response = await client.get(f"{API}/runs/{run['id']}/metrics", params={"sort": "step_id"})
    found = response.json()
    page = await client.get(f"{API}/runs/{run['id']}/metrics", params={"per_page": 1})

    assert found["status"] == "completed", found
    assert found["steps_total"] == 2
    assert found["attempts_total"] == 2
    ask, t = found["steps"]
    assert ask["step_type"] == "llm"
    assert ask["total_tokens"] == ask["prompt_tokens"] + ask["completion_tokens"]
    assert found["tokens"]["total_tokens"] == ask["total_tokens"]
    # Only an llm step's usage counts as tokens.
    assert t["total_tokens"] is None
    assert ask["duration_seconds"] >= 0
    assert ask["queued_seconds"] >= 0
    assert page.headers["X-Total-Count"] == "2"
    assert len(page.json()["steps"]) == 1
    assert (await client.get(f"{API}/runs/x/metrics")).status_code == 404
