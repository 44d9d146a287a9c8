"""Agent health: a live check of the health URL within the agent's timeout, and the
periodic checks whose last results are kept and exported to /metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from tests.agents.test_registry import register
from tests.runs import API, admin_headers
from tests.waiting import eventually
from towpath.app import create_app

if TYPE_CHECKING:
    from tests.agents.fleet import AgentFleet
    from towpath.config import Settings


async def check(client: httpx.AsyncClient, agent_id: str) -> dict[str, Any]:
    checked = await client.get(f"{API}/agents/{agent_id}/health")
    assert checked.status_code == 200, checked.text
    found: dict[str, Any] = checked.json()
    return found


async def test_a_healthy_agent_is_up_with_its_status_and_latency(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(
        client,
        {
            "name": "a",
            "url": agent_fleet.url_for("fast"),
            "health_url": agent_fleet.health_for("ok"),
        },
    )

    first = await check(client, made["id"])
    second = await check(client, made["id"])

    assert first["status"] == "up"
    assert first["status_code"] == 200
    assert first["latency_ms"] > 0
    assert first["url"] == agent_fleet.health_for("ok")
    assert [r["checked_at"] for r in second["recent"]] == [
        second["checked_at"],
        first["checked_at"],
    ]
    read = (await client.get(f"{API}/agents/{made['id']}")).json()
    assert read["last_health"]["checked_at"] == second["checked_at"]
    assert [r.path for r in agent_fleet.requests] == ["/health/ok", "/health/ok"]


async def test_an_agent_answering_an_error_is_down_with_its_status(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(
        client,
        {
            "name": "a",
            "url": agent_fleet.url_for("fast"),
            "health_url": agent_fleet.health_for("sick"),
        },
    )

    found = await check(client, made["id"])

    assert (found["status"], found["status_code"]) == ("down", 503)


async def test_an_unreachable_agent_is_down_without_a_status(
    client: httpx.AsyncClient, refused_url: str
) -> None:
    made = await register(client, {"name": "a", "url": refused_url})

    found = await check(client, made["id"])

    assert found["status"] == "down"
    assert found["status_code"] is None
    assert found["error"]


async def test_a_slow_health_url_is_down_after_the_agents_timeout(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(
        client,
        {
            "name": "a",
            "url": agent_fleet.url_for("fast"),
            "health_url": agent_fleet.health_for("slow"),
            "timeout_seconds": 0.3,
        },
    )

    found = await check(client, made["id"])

    assert found["status"] == "down"
    assert "0.3 seconds" in found["error"]
    assert found["latency_ms"] < 2000


async def test_the_health_of_an_unknown_agent_is_not_found(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{API}/agents/nope/health")

    assert missing.status_code == 404
    assert missing.json()["error_code"] == "AGENT_NOT_FOUND"


async def test_periodic_checks_keep_the_last_results_and_export_them_to_metrics(
    settings: Settings, agent_fleet: AgentFleet
) -> None:
    periodic = settings.model_copy(
        update={"agent_health_interval_seconds": 0.05, "agent_health_keep": 3}
    )
    app = create_app(periodic)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://towpath.test", headers=headers
        ) as client:
            up = await register(
                client,
                {
                    "name": "up",
                    "url": agent_fleet.url_for("fast"),
                    "health_url": agent_fleet.health_for("ok"),
                },
            )
            down = await register(
                client,
                {
                    "name": "down",
                    "url": agent_fleet.url_for("fast"),
                    "health_url": agent_fleet.health_for("sick"),
                },
            )

            def checked_often() -> bool:
                return sum(1 for r in agent_fleet.requests if r.path == "/health/sick") >= 4

            await eventually(checked_often, 10, "four periodic checks")
            kept = await check(client, up["id"])
            metrics = (await client.get("/metrics")).text

    assert len(kept["recent"]) == 3
    assert f'towpath_agent_up{{agent="up",agent_id="{up["id"]}"}} 1.0' in metrics
    assert f'towpath_agent_up{{agent="down",agent_id="{down["id"]}"}} 0.0' in metrics
    assert "towpath_agent_health_latency_seconds" in metrics
