"""The llm step's API key: the secret it names, else the workspace's LLM_API_KEY secret,
else the server's key; the key never shows in what the run records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from tests.secrets.helpers import assert_absent, make_secret

if TYPE_CHECKING:
    import httpx

    from tests.servers import LlmServer
    from towpath.config import Settings


@pytest.fixture
def settings(settings: Settings, llm_server: LlmServer) -> Settings:
    return settings.model_copy(
        update={"llm_base_url": llm_server.base_url, "llm_api_key": "server-key"}
    )


async def ask(client: httpx.AsyncClient, **config: Any) -> dict[str, Any]:
    definition = {"nodes": [node("ask", "llm", {"model": "m", "prompt": "hi", **config})]}
    run_id = (await start(client, await publish(client, definition)))["id"]
    return await wait_for(client, run_id, "completed", "failed")


async def test_the_server_key_without_a_secret(
    client: httpx.AsyncClient, llm_server: LlmServer
) -> None:
    llm_server.require_api_key("server-key")
    assert (await ask(client))["status"] == "completed"


async def test_the_workspace_default_secret_before_the_server_key(
    client: httpx.AsyncClient, llm_server: LlmServer
) -> None:
    await make_secret(client, "LLM_API_KEY", "workspace-key-123")
    llm_server.require_api_key("workspace-key-123")
    done = await ask(client)
    assert done["status"] == "completed", done["error"]


async def test_the_step_s_own_secret_first(
    client: httpx.AsyncClient, llm_server: LlmServer
) -> None:
    await make_secret(client, "LLM_API_KEY", "workspace-key-123")
    await make_secret(client, "TEAM_KEY", "team-key-456")
    llm_server.require_api_key("team-key-456")
    done = await ask(client, api_key_secret="TEAM_KEY")
    assert done["status"] == "completed", done["error"]
    run_id = done["id"]
    for path in ("", "/steps", "/events", "/logs"):
        text = (await client.get(f"{API}/runs/{run_id}{path}")).text
        assert_absent(text, "team-key-456", path)


async def test_a_named_secret_deleted_after_publishing_fails_the_step(
    client: httpx.AsyncClient, llm_server: LlmServer
) -> None:
    await make_secret(client, "TEAM_KEY", "team-key-456")
    definition = {
        "nodes": [node("ask", "llm", {"model": "m", "prompt": "hi", "api_key_secret": "TEAM_KEY"})]
    }
    workflow_id = await publish(client, definition)
    assert (await client.delete(f"{API}/secrets/TEAM_KEY")).status_code == 204
    run_id = (await start(client, workflow_id))["id"]
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "failed"
    assert "TEAM_KEY" in str(done["error"])
    assert llm_server.requests == []


async def test_the_server_key_never_shows_to_a_workspace(
    client: httpx.AsyncClient, llm_server: LlmServer
) -> None:
    # An endpoint that repeats the key it was sent, in an error and in an answer.
    llm_server.fail_next(401, "bad key Bearer server-key")
    failed = await ask(client)
    llm_server.reply("you sent Bearer server-key")
    answered = await ask(client)

    assert failed["status"] == "failed"
    assert "[secret:TOWPATH_LLM_API_KEY]" in failed["error"]
    assert answered["status"] == "completed", answered["error"]
    for run_id in (failed["id"], answered["id"]):
        for path in ("", "/steps", "/events", "/logs"):
            text = (await client.get(f"{API}/runs/{run_id}{path}")).text
            assert_absent(text, "server-key", path)
