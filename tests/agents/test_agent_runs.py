"""Agent steps in runs against real local agents: found by id or name, headers, timeouts
and retries from the registry, and publishing refused for an agent not registered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.agents.test_registry import register
from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for
from tests.secrets.helpers import assert_absent, make_secret

if TYPE_CHECKING:
    import httpx

    from tests.agents.fleet import AgentFleet


def calling(step: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            node("ask", "agent", step),
            node("use", "transform", {"output": {"said": "{{ ask.echo }}"}}),
        ],
        "edges": [edge("ask", "use")],
    }


async def test_a_run_calls_the_agent_by_name_with_its_headers_and_idempotency_key(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    headers = {"Authorization": "Bearer {{ input.token }}", "X-Team": "search"}
    await register(
        client, {"name": "helper", "url": agent_fleet.url_for("fast"), "headers": headers}
    )
    workflow_id = await publish(client, calling({"agent": "helper", "input": "{{ input.q }}"}))

    run = await start(client, workflow_id, {"q": "hello", "token": "t-123"})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert done["context"]["use"] == {"said": "hello"}
    (sent,) = agent_fleet.requests
    assert sent.headers["authorization"] == "Bearer t-123"
    assert sent.headers["x-team"] == "search"
    assert sent.headers["idempotency-key"] == f"{run['id']}:ask:1"
    assert sent.json == {"run_id": run["id"], "step_id": "ask", "attempt": 1, "input": "hello"}


async def test_a_run_calls_the_agent_by_id_and_sees_a_changed_url(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(client, {"name": "mover", "url": "http://127.0.0.1:9/nowhere"})
    workflow_id = await publish(client, calling({"agent_id": made["id"], "input": "x"}))
    await client.patch(f"{API}/agents/{made['id']}", json={"url": agent_fleet.url_for("fast")})

    done = await wait_for(client, (await start(client, workflow_id))["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert agent_fleet.calls("fast") == 1


async def test_the_agents_timeout_applies_unless_the_step_sets_its_own(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    await register(
        client, {"name": "sluggish", "url": agent_fleet.url_for("slow"), "timeout_seconds": 0.3}
    )
    by_agent = await publish(client, calling({"agent": "sluggish", "input": {"sleep": 1}}))
    by_step = await publish(
        client, calling({"agent": "sluggish", "input": {"sleep": 0.5}, "timeout": 5})
    )

    timed_out = await wait_for(client, (await start(client, by_agent))["id"], "completed", "failed")
    waited = await wait_for(client, (await start(client, by_step))["id"], "completed", "failed")

    assert timed_out["status"] == "failed"
    assert "within 0.3 seconds" in timed_out["error"]
    assert waited["status"] == "completed", waited["error"]


async def test_the_agents_retry_policy_applies_unless_the_step_sets_its_own(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    retry = {"max_attempts": 3, "backoff_seconds": 0.01, "max_backoff_seconds": 0.02}
    await register(client, {"name": "flaky", "url": agent_fleet.url_for("flaky"), "retry": retry})
    by_agent = await publish(client, calling({"agent": "flaky", "input": {"failures": 2}}))

    done = await wait_for(client, (await start(client, by_agent))["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert agent_fleet.calls("flaky") == 3
    step = (await steps_by_id(client, done["id"]))["ask"]
    assert step["attempt"] == 3

    agent_fleet.reset()
    once = {"max_attempts": 1}
    by_step = await publish(
        client, calling({"agent": "flaky", "input": {"failures": 2}, "retry": once})
    )
    failed = await wait_for(client, (await start(client, by_step))["id"], "completed", "failed")

    assert failed["status"] == "failed"
    assert agent_fleet.calls("flaky") == 1


async def test_a_down_agent_fails_the_step_as_a_network_error(
    client: httpx.AsyncClient, refused_url: str
) -> None:
    await register(client, {"name": "down", "url": refused_url})
    workflow_id = await publish(client, calling({"agent": "down"}))

    done = await wait_for(client, (await start(client, workflow_id))["id"], "completed", "failed")

    assert done["status"] == "failed"
    step = (await steps_by_id(client, done["id"]))["ask"]
    assert step["attempts"][-1]["kind"] == "network"


async def test_a_disabled_or_deleted_agent_fails_the_step_for_good(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(client, {"name": "resting", "url": agent_fleet.url_for("fast")})
    workflow_id = await publish(client, calling({"agent": "resting"}))

    await client.patch(f"{API}/agents/{made['id']}", json={"enabled": False})
    disabled = await wait_for(
        client, (await start(client, workflow_id))["id"], "completed", "failed"
    )
    await client.delete(f"{API}/agents/{made['id']}")
    deleted = await wait_for(
        client, (await start(client, workflow_id))["id"], "completed", "failed"
    )

    assert "'resting' is disabled" in disabled["error"]
    assert "'resting' is not registered" in deleted["error"]
    assert agent_fleet.requests == []


async def test_validation_and_publish_name_the_node_calling_an_unknown_agent(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    await register(client, {"name": "known", "url": agent_fleet.url_for("fast")})
    definition = {
        "nodes": [
            node("fine", "agent", {"agent": "known"}),
            node("lost", "agent", {"agent": "ghost"}),
            node("later", "agent", {"agent": "{{ input.which }}"}),
        ],
        "edges": [edge("fine", "lost"), edge("lost", "later")],
    }
    made = await client.post(f"{API}/workflows", json={"name": "wf", "definition": definition})
    workflow_id = made.json()["id"]

    checked = (await client.post(f"{API}/workflows/{workflow_id}/validate")).json()
    published = await client.post(f"{API}/workflows/{workflow_id}/publish")

    assert checked["valid"] is False
    assert [(e["code"], e["node_id"]) for e in checked["issues"]] == [("AGENT_NOT_FOUND", "lost")]
    assert published.status_code == 422
    assert published.json()["details"]["errors"][0]["node_id"] == "lost"
    assert published.json()["details"]["errors"][0]["path"] == "config.agent"
    workflow = (await client.get(f"{API}/workflows/{workflow_id}")).json()
    assert workflow["status"] == "draft"


async def test_a_header_naming_a_secret_sends_its_value_and_records_none(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    # As the README registers one: the header a template, rendered with the run's secrets.
    await make_secret(client, "AGENT_TOKEN", "agent-token-5e6f")
    headers = {"Authorization": "Bearer {{ secrets.AGENT_TOKEN }}"}
    await register(
        client, {"name": "keyed", "url": agent_fleet.url_for("fast"), "headers": headers}
    )
    workflow_id = await publish(client, calling({"agent": "keyed", "input": "hi"}))

    done = await wait_for(client, (await start(client, workflow_id))["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    (sent,) = agent_fleet.requests
    assert sent.headers["authorization"] == "Bearer agent-token-5e6f"
    for path in ("", "/steps", "/events", "/logs"):
        text = (await client.get(f"{API}/runs/{done['id']}{path}")).text
        assert_absent(text, "agent-token-5e6f", path)
