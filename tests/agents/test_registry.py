"""The agents registry over HTTP: register, list, read, replace, change, delete, audit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.runs import API
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from tests.agents.fleet import AgentFleet


def agent_body(fleet: AgentFleet, name: str = "summariser", **fields: Any) -> dict[str, Any]:
    return {"name": name, "url": fleet.url_for("fast"), **fields}


async def register(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    made = await client.post(f"{API}/agents", json=body)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


async def test_a_registered_agent_is_read_back_with_every_field(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    body = agent_body(
        agent_fleet,
        kind="langchain",
        description="Summarises text",
        health_url=agent_fleet.health_for("ok"),
        config={"model": "small"},
        capabilities=["summarise", "english"],
        headers={"Authorization": "Bearer {{ secrets.AGENT_TOKEN }}"},
        timeout_seconds=12.5,
        retry={"max_attempts": 3, "backoff_seconds": 0.5},
        enabled=False,
    )
    made = await register(client, body)

    read = (await client.get(f"{API}/agents/{made['id']}")).json()
    assert read == made
    for name, value in body.items():
        assert read[name] == value, name
    assert read["last_health"] is None


async def test_defaults_fill_what_is_left_out(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(client, agent_body(agent_fleet))

    assert made["kind"] == "http"
    assert made["timeout_seconds"] == 30.0
    assert made["retry"] == {}
    assert made["enabled"] is True
    assert made["capabilities"] == []


async def test_a_name_used_twice_is_a_conflict_and_nothing_is_stored(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    await register(client, agent_body(agent_fleet))

    again = await client.post(
        f"{API}/agents", json=agent_body(agent_fleet, url="http://127.0.0.1:1/")
    )

    assert again.status_code == 409
    assert again.json()["error_code"] == "AGENT_NAME_TAKEN"
    assert again.json()["details"]["field"] == "name"
    listed = (await client.get(f"{API}/agents")).json()
    assert [a["url"] for a in listed] == [agent_fleet.url_for("fast")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "ftp://agents.example.com/run"),
        ("url", "file:///etc/passwd"),
        ("url", "not a url"),
        ("health_url", "javascript:alert(1)"),
        ("timeout_seconds", 0),
        ("headers", {"Bad Header": "x"}),
        ("name", ""),
    ],
)
async def test_bad_fields_are_refused_naming_the_field(
    client: httpx.AsyncClient, agent_fleet: AgentFleet, field: str, value: Any
) -> None:
    refused = await client.post(f"{API}/agents", json={**agent_body(agent_fleet), field: value})

    assert refused.status_code == 422, refused.text
    assert field in refused.text
    assert (await client.get(f"{API}/agents")).json() == []


@pytest.mark.parametrize("field", ["url", "health_url"])
async def test_an_address_the_egress_guard_refuses_is_refused_at_once(
    client: httpx.AsyncClient, agent_fleet: AgentFleet, field: str
) -> None:
    # Link-local (a cloud's metadata address) is not among the tests' allowed hosts.
    body = {**agent_body(agent_fleet), field: "http://169.254.169.254/latest"}

    refused = await client.post(f"{API}/agents", json=body)

    assert refused.status_code == 422
    assert refused.json()["error_code"] == "AGENT_URL_REFUSED"
    assert refused.json()["details"]["field"] == field
    assert (await client.get(f"{API}/agents")).json() == []


async def test_a_host_no_resolver_can_be_asked_for_is_refused(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    body = {**agent_body(agent_fleet), "url": f"https://{'0' * 64}.example.com/"}

    refused = await client.post(f"{API}/agents", json=body)

    assert refused.status_code == 422
    assert refused.json()["details"]["field"] == "url"
    assert (await client.get(f"{API}/agents")).json() == []


async def test_the_list_filters_and_pages(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    for n in range(5):
        await register(
            client,
            agent_body(
                agent_fleet,
                name=f"agent-{n}",
                kind="crew" if n % 2 else "http",
                capabilities=["search"] if n < 2 else ["write"],
                enabled=n != 4,
            ),
        )

    async def names(query: str) -> list[str]:
        found = await client.get(f"{API}/agents?sort=name&{query}")
        assert found.status_code == 200, found.text
        return [a["name"] for a in found.json()]

    assert await names("kind=crew") == ["agent-1", "agent-3"]
    assert await names("capability=search") == ["agent-0", "agent-1"]
    assert await names("enabled=false") == ["agent-4"]
    assert await names("name=nt-2") == ["agent-2"]
    page = await client.get(f"{API}/agents?sort=name&per_page=2&page=2")
    assert [a["name"] for a in page.json()] == ["agent-2", "agent-3"]
    assert page.headers["X-Total-Count"] == "5"


async def test_put_replaces_and_patch_changes_only_what_it_names(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(client, agent_body(agent_fleet, description="first", capabilities=["a"]))
    url = f"{API}/agents/{made['id']}"

    patched = await client.patch(url, json={"description": "second", "enabled": False})
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "second"
    assert patched.json()["capabilities"] == ["a"]
    assert patched.json()["enabled"] is False

    replaced = await client.put(url, json={"name": "renamed", "url": agent_fleet.url_for("slow")})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"] == "renamed"
    assert replaced.json()["description"] == ""
    assert replaced.json()["capabilities"] == []
    assert replaced.json()["enabled"] is True


async def test_patch_keeps_a_field_given_null_and_refuses_a_taken_name_changing_nothing(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    await register(client, agent_body(agent_fleet, name="taken"))
    made = await register(client, agent_body(agent_fleet, name="mine"))
    url = f"{API}/agents/{made['id']}"

    nulled = await client.patch(url, json={"url": None})
    taken = await client.patch(url, json={"name": "taken", "description": "changed"})
    bad_url = await client.patch(url, json={"url": "gopher://x"})

    # Null leaves a field as it is (the document allows it): only `health_url` unsets.
    assert nulled.status_code == 200, nulled.text
    assert nulled.json()["url"] == made["url"]
    assert taken.status_code == 409
    assert bad_url.status_code == 422
    assert (await client.get(url)).json() == made


async def test_a_deleted_agent_is_gone_and_its_name_free_again(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(client, agent_body(agent_fleet))

    deleted = await client.delete(f"{API}/agents/{made['id']}")

    assert deleted.status_code == 204
    assert (await client.get(f"{API}/agents/{made['id']}")).status_code == 404
    assert (await client.delete(f"{API}/agents/{made['id']}")).status_code == 404
    assert (await client.get(f"{API}/agents")).json() == []
    await register(client, agent_body(agent_fleet))


async def test_changes_are_audited_without_header_values(
    client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(client, agent_body(agent_fleet, headers={"X-Key": "literal-secret"}))
    await client.patch(f"{API}/agents/{made['id']}", json={"description": "x"})
    await client.patch(f"{API}/agents/{made['id']}", json={"config": {"depth": 2}})
    await client.delete(f"{API}/agents/{made['id']}")

    entries = (await client.get(f"{API}/audit?resource_type=agent&sort=created_at")).json()

    actions = ["agent.create", "agent.update", "agent.update", "agent.delete"]
    assert [e["action"] for e in entries] == actions
    assert all(e["resource_id"] == made["id"] for e in entries)
    assert "literal-secret" not in str(entries)
    assert entries[0]["after"]["headers"] == ["X-Key"]
    # Each change shows in what it changed.
    assert entries[1]["after"]["description"] == "x"
    assert entries[2]["before"] != entries[2]["after"]


async def test_viewers_read_agents_and_editors_manage_them(
    app: FastAPI, client: httpx.AsyncClient, agent_fleet: AgentFleet
) -> None:
    made = await register(client, agent_body(agent_fleet))
    viewer = await issue_workspace_key(app.state.db, "viewer", "viewer")
    as_viewer = {"Authorization": f"Bearer {viewer.plaintext}"}

    read = await client.get(f"{API}/agents/{made['id']}", headers=as_viewer)
    created = await client.post(
        f"{API}/agents", json=agent_body(agent_fleet, name="other"), headers=as_viewer
    )
    deleted = await client.delete(f"{API}/agents/{made['id']}", headers=as_viewer)

    assert read.status_code == 200
    assert created.status_code == 403
    assert deleted.status_code == 403
