"""Steps reach public addresses only, unless the settings allow a private one: checked on
the resolved address, on every redirect hop."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.factories import node
from tests.runs import admin_headers, publish, start, wait_for
from tests.servers import step_context
from towpath.app import create_app
from towpath.config import Settings
from towpath.steps.egress import EgressPolicy, refusal
from towpath.steps.execution import Completed, Failed
from towpath.steps.http_request import HttpRequestConfig, execute
from towpath.steps.services import egress_policy, engine_services

if TYPE_CHECKING:
    from tests.servers import EchoServer


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:7f00:1::", "loopback"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_which_addresses_are_refused(address: str, reason: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


def test_the_allow_list_names_networks_hosts_and_ports() -> None:
    policy = EgressPolicy.parse(["10.0.0.0/8", "192.168.1.5:8080", "[::1]:9000", "Db.Internal"])
    ip = ipaddress.ip_address

    assert policy.allows("x", ip("10.9.9.9"), 443)
    assert policy.allows("x", ip("192.168.1.5"), 8080)
    assert not policy.allows("x", ip("192.168.1.5"), 22)
    assert policy.allows("x", ip("::1"), 9000)
    assert not policy.allows("x", ip("::1"), 9001)
    assert policy.allows("db.internal.", ip("172.20.0.3"), 5432)
    assert not policy.allows("other.internal", ip("172.20.0.3"), 5432)
    assert policy.allows("anything", ip("1.1.1.1"), 80)


def test_the_llm_endpoint_is_reachable_even_when_local() -> None:
    policy = egress_policy(Settings(llm_base_url="http://localhost:11434/v1"))

    assert policy.allows("localhost", ipaddress.ip_address("127.0.0.1"), 11434)
    assert not policy.allows("localhost", ipaddress.ip_address("127.0.0.1"), 8000)


async def _call(settings: Settings, url: str) -> Completed | Failed:
    async with engine_services(settings) as services:
        outcome = await execute(HttpRequestConfig(url=url), step_context(services))
    assert isinstance(outcome, Completed | Failed)
    return outcome


async def test_loopback_is_refused_by_address_and_by_name(echo_server: EchoServer) -> None:
    port = echo_server.url.rsplit(":", 1)[1]
    strict = Settings()

    by_address = await _call(strict, f"{echo_server.url}/echo")
    by_name = await _call(strict, f"http://localhost:{port}/echo")

    for outcome in (by_address, by_name):
        assert isinstance(outcome, Failed)
        assert not outcome.retryable
        assert "loopback address" in outcome.error
    assert echo_server.requests == []


async def test_an_allowed_address_is_reached(echo_server: EchoServer) -> None:
    port = echo_server.url.rsplit(":", 1)[1]
    allowed = Settings(step_allowed_hosts=[f"127.0.0.1:{port}"])

    outcome = await _call(allowed, f"{echo_server.url}/echo")

    assert isinstance(outcome, Completed)
    assert outcome.output["status"] == 200


async def test_a_redirect_to_a_private_address_is_refused(echo_server: EchoServer) -> None:
    port = echo_server.url.rsplit(":", 1)[1]
    allowed = Settings(step_allowed_hosts=[f"127.0.0.1:{port}"])
    # 127.0.0.2 is loopback too, and not allowed: the hop is checked when it connects.
    target = f"http://127.0.0.2:{port}/echo"

    outcome = await _call(allowed, f"{echo_server.url}/redirect?to={target}")

    assert isinstance(outcome, Failed)
    assert "127.0.0.2" in outcome.error
    assert [r.path for r in echo_server.requests] == ["/redirect"]


async def test_a_run_calling_a_private_address_fails_without_retrying(
    settings: Settings, echo_server: EchoServer
) -> None:
    app = create_app(settings.model_copy(update={"step_allowed_hosts": []}))
    config = {"url": f"{echo_server.url}/echo", "retry": {"max_attempts": 3}}
    definition = {"nodes": [node("call", "http_request", config)], "edges": []}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = await admin_headers(app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as c:
            run = await start(c, await publish(c, definition))
            done = await wait_for(c, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "refusing to connect" in done["error"]
    assert echo_server.requests == []


async def test_a_cookie_one_call_was_given_never_rides_on_another(echo_server: EchoServer) -> None:
    port = echo_server.url.rsplit(":", 1)[1]
    allowed = Settings(step_allowed_hosts=[f"127.0.0.1:{port}"])
    async with engine_services(allowed) as services:
        signed_in = HttpRequestConfig(url=f"{echo_server.url}/cookie")
        first = await execute(signed_in, step_context(services, run_id="run-of-workspace-a"))
        assert isinstance(first, Completed)
        assert "session=" in first.output["headers"]["set-cookie"]
        later = HttpRequestConfig(url=f"{echo_server.url}/echo")
        await execute(later, step_context(services, run_id="run-of-workspace-b"))

    assert echo_server.requests[-1].path == "/echo"
    assert "cookie" not in echo_server.requests[-1].headers
