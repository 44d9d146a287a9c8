"""The `agent` step against a real agent server: lookup, sync answers, 202 waits, failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests import servers
from tests.servers import AgentServer, step_context
from towpath.domain.agents import AgentTarget
from towpath.steps.agent import STEP, AgentConfig, execute
from towpath.steps.execution import Completed, EngineServices, Failed, Waiting

if TYPE_CHECKING:
    import aiohttp

    from towpath.steps.execution import Outcome

# The servers' fixtures, until the root conftest registers tests.servers as a plugin.
agent_server = servers.agent_server
http_client = servers.http_client
refused_url = servers.refused_url


@dataclass(frozen=True)
class Directory:
    """The registry as the engine hands it to steps, here a dict of ids and names."""

    agents: dict[str, AgentTarget]

    async def find(self, run_id: str, reference: str) -> AgentTarget | None:
        return self.agents.get(reference)


async def call(client: aiohttp.ClientSession, agents: Directory, config: dict[str, Any]) -> Outcome:
    services = EngineServices(
        http=client, agents=agents, public_url="https://towpath.test", callback_key=b"key"
    )
    return await execute(AgentConfig.model_validate(config), step_context(services))


def at(url: str) -> Directory:
    agent = AgentTarget(id="agent_0123", name="echo", url=url)
    return Directory({"agent_0123": agent, "echo": agent})


def registered(server: AgentServer) -> Directory:
    """One agent named "echo" with the id agent_0123."""
    return at(server.url_for("echo"))


def test_the_step_type_registers_its_execute() -> None:
    assert STEP.execute is execute


async def test_an_unknown_agent_fails_for_good(
    http_client: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    outcome = await call(http_client, registered(agent_server), {"agent": "ghost"})

    assert outcome == Failed("agent 'ghost' is not registered", kind="error", retryable=False)
    assert agent_server.requests == []


@pytest.mark.parametrize("reference", [{"agent": "echo"}, {"agent_id": "agent_0123"}])
async def test_an_agent_found_by_name_or_id_completes_with_its_answer(
    http_client: aiohttp.ClientSession, agent_server: AgentServer, reference: dict[str, str]
) -> None:
    config = {**reference, "input": {"question": "why?", "n": 2}}
    outcome = await call(http_client, registered(agent_server), config)

    assert outcome == Completed({"echo": {"question": "why?", "n": 2}, "agent": "echo"})


async def test_the_request_names_the_run_step_attempt_and_input(
    http_client: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    await call(http_client, registered(agent_server), {"agent": "echo", "input": [1, 2]})

    (request,) = agent_server.requests
    assert request.method == "POST"
    assert request.headers["idempotency-key"] == "run-1:step-1:1"
    assert request.json == {"run_id": "run-1", "step_id": "step-1", "attempt": 1, "input": [1, 2]}


async def test_a_text_answer_completes_as_text(
    http_client: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    config = {"agent": "echo", "input": {"text": "plain words"}}
    outcome = await call(http_client, registered(agent_server), config)

    assert outcome == Completed({"text": "plain words"})


async def test_an_accepted_call_waits_for_the_callback(
    http_client: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    config = {"agent": "echo", "input": {"async": True}, "wait_for_callback": True}
    outcome = await call(http_client, registered(agent_server), config)

    assert isinstance(outcome, Waiting)
    assert outcome.request == {
        "agent": "echo",
        "agent_id": "agent_0123",
        "accepted": {"accepted": True, "agent": "echo", "task": "task-1"},
    }
    sent = agent_server.requests[0].json
    assert sent["callback_url"] == "https://towpath.test/api/v1/runs/run-1/steps/step-1/complete"
    assert sent["callback_token"].startswith("1.")


async def test_an_agent_that_answers_at_once_completes_even_when_a_callback_was_offered(
    http_client: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    config = {"agent": "echo", "input": "now", "wait_for_callback": True}
    outcome = await call(http_client, registered(agent_server), config)

    assert outcome == Completed({"echo": "now", "agent": "echo"})


async def test_without_wait_for_callback_an_accepted_answer_completes_the_step(
    http_client: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    config = {"agent": "echo", "input": {"async": True}}
    outcome = await call(http_client, registered(agent_server), config)

    assert isinstance(outcome, Completed)
    assert outcome.output["accepted"] is True
    assert "callback_url" not in agent_server.requests[0].json


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [(500, "5xx", True), (503, "5xx", True), (429, "error", True), (422, "error", False)],
)
async def test_an_agent_error_fails_with_its_kind(
    http_client: aiohttp.ClientSession,
    agent_server: AgentServer,
    status: int,
    kind: str,
    retryable: bool,
) -> None:
    config = {"agent": "echo", "input": {"status": status}}
    outcome = await call(http_client, registered(agent_server), config)

    assert isinstance(outcome, Failed)
    assert outcome.error.startswith(f"HTTP {status} from {agent_server.url_for('echo')}")
    assert outcome.kind == kind
    assert outcome.retryable is retryable


async def test_a_non_2xx_success_status_fails_for_good(
    http_client: aiohttp.ClientSession, agent_server: AgentServer
) -> None:
    outcome = await call(
        http_client, registered(agent_server), {"agent": "echo", "input": {"status": 302}}
    )

    assert isinstance(outcome, Failed)
    assert outcome.retryable is False


async def test_an_unreachable_agent_fails_as_a_retryable_network_error(
    http_client: aiohttp.ClientSession, refused_url: str
) -> None:
    outcome = await call(http_client, at(refused_url), {"agent": "echo"})

    assert isinstance(outcome, Failed)
    assert outcome.kind == "network"
    assert outcome.retryable is True
