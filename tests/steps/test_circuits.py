"""Outbound calls honour `Retry-After` on 429 and 503, and a destination that keeps failing
gets its circuit opened: calls there are refused unsent until one trial call succeeds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import update

from tests import servers
from tests.factories import node
from tests.runs import API, publish, start, wait_for, wait_for_step
from tests.servers import EchoServer, step_context
from tests.waiting import eventually
from towpath.steps.circuit import CircuitBreakers, CircuitState
from towpath.steps.execution import CUT_OFF, EngineServices, Failed
from towpath.steps.http_call import MAX_RETRY_AFTER_SECONDS, retry_after
from towpath.steps.http_request import HttpRequestConfig, execute
from towpath.storage.models import StepRun

if TYPE_CHECKING:
    import aiohttp
    import httpx

    from towpath.config import Settings
    from towpath.steps.execution import Outcome
    from towpath.storage.database import Database

echo_server = servers.echo_server
http_client = servers.http_client
refused_url = servers.refused_url


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def call(
    client: aiohttp.ClientSession, url: str, breakers: CircuitBreakers | None = None
) -> Outcome:
    config = HttpRequestConfig.model_validate({"url": url})
    return await execute(config, step_context(EngineServices(http=client, breakers=breakers)))


def _has(found: list[Any], count: int) -> bool:
    return len(found) >= count


def test_a_circuit_opens_after_failures_in_a_row_and_a_trial_closes_it() -> None:
    clock = Clock()
    changes: list[tuple[str, CircuitState]] = []
    breakers = CircuitBreakers(3, 30.0, clock, lambda *change: changes.append(change))
    where = "api.example:443"
    for _ in range(2):
        breakers.after(where, trouble=True)
    breakers.after(where, trouble=False)  # a success in between starts the count again
    for _ in range(2):
        assert breakers.before(where) is None
        breakers.after(where, trouble=True)
    assert breakers.states() == {where: CircuitState.CLOSED}
    assert breakers.after(where, trouble=True) == (CircuitState.CLOSED, CircuitState.OPEN)

    clock.now += 10
    refusal = breakers.before(where)
    assert refusal is not None
    assert refusal.failures == 3
    assert refusal.retry_in_seconds == pytest.approx(20)
    assert breakers.before("other.example:443") is None

    clock.now += 20
    assert breakers.before(where) is None  # the trial
    assert breakers.before(where) is not None  # one at a time
    assert breakers.after(where, trouble=True) == (CircuitState.HALF_OPEN, CircuitState.OPEN)
    clock.now += 30
    assert breakers.before(where) is None
    assert breakers.after(where, trouble=False) == (CircuitState.HALF_OPEN, CircuitState.CLOSED)
    assert breakers.states() == {}
    assert [state for _, state in changes] == ["open", "half_open", "open", "half_open", "closed"]


def test_no_threshold_never_breaks() -> None:
    breakers = CircuitBreakers(0, 30.0)
    for _ in range(50):
        breakers.after("a:1", trouble=True)
    assert breakers.before("a:1") is None


def test_retry_after_reads_seconds_and_dates_and_caps_them() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert retry_after("120") == 120
    assert retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now) == 0
    assert retry_after("99999999") == MAX_RETRY_AFTER_SECONDS
    assert retry_after("soon") is None
    assert retry_after("²") is None
    assert retry_after(None) is None


@pytest.mark.parametrize("code", [429, 503])
async def test_a_429_or_503_carries_its_retry_after(
    http_client: aiohttp.ClientSession, echo_server: EchoServer, code: int
) -> None:
    outcome = await call(http_client, f"{echo_server.url}/status/{code}?retry_after=42")
    assert isinstance(outcome, Failed)
    assert outcome.retryable
    assert outcome.retry_after == 42
    plain = await call(http_client, f"{echo_server.url}/status/500?retry_after=42")
    assert isinstance(plain, Failed)
    assert plain.retry_after is None


async def test_an_open_circuit_refuses_calls_unsent_and_spares_other_destinations(
    http_client: aiohttp.ClientSession, echo_server: EchoServer, refused_url: str
) -> None:
    breakers = CircuitBreakers(3, 60.0)
    failing = f"{echo_server.url}/status/502"
    for _ in range(3):
        outcome = await call(http_client, failing, breakers)
        assert isinstance(outcome, Failed)
        assert outcome.kind == "5xx"
    assert isinstance(outcome, Failed)
    assert outcome.circuit == "open"
    sent = len(echo_server.requests)

    refused = await call(http_client, f"{echo_server.url}/echo", breakers)

    assert isinstance(refused, Failed)
    assert refused.kind == "circuit_open"
    assert refused.retryable
    assert refused.retry_after is not None
    assert 0 < refused.retry_after <= 60
    assert "circuit" in refused.error
    assert len(echo_server.requests) == sent  # not sent at all
    other = await call(http_client, refused_url, breakers)
    assert isinstance(other, Failed)
    assert other.kind == "network"  # tried: its own circuit was closed


async def test_a_4xx_does_not_count_against_the_destination(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    breakers = CircuitBreakers(2, 60.0)
    for _ in range(4):
        outcome = await call(http_client, f"{echo_server.url}/status/404", breakers)
        assert isinstance(outcome, Failed)
        assert outcome.kind == "error"
    assert breakers.states() == {}


async def test_a_call_cut_off_by_its_caller_does_not_count_against_the_destination(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    # A step's call is cut off when its run is cancelled or another worker took its step
    # over: the destination did nothing wrong.
    breakers = CircuitBreakers(2, 60.0)
    for n in (1, 2):
        slow = f"{echo_server.url}/slow?seconds=30"
        calling = asyncio.create_task(call(http_client, slow, breakers))
        await eventually(partial(_has, echo_server.requests, n), what="the call went out")
        calling.cancel(CUT_OFF)
        with pytest.raises(asyncio.CancelledError):
            await calling
    assert breakers.states() == {}
    assert not isinstance(await call(http_client, f"{echo_server.url}/echo", breakers), Failed)


async def test_a_trial_cut_off_by_its_caller_lets_the_next_call_be_the_trial(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    clock = Clock()
    breakers = CircuitBreakers(1, 30.0, clock)
    breakers.after(echo_server.url.removeprefix("http://"), trouble=True)
    clock.now += 30
    trial = asyncio.create_task(call(http_client, f"{echo_server.url}/slow?seconds=30", breakers))
    await eventually(lambda: bool(echo_server.requests), what="the trial went out")
    trial.cancel(CUT_OFF)
    with pytest.raises(asyncio.CancelledError):
        await trial

    assert breakers.states() == {echo_server.url.removeprefix("http://"): CircuitState.HALF_OPEN}
    assert not isinstance(await call(http_client, f"{echo_server.url}/echo", breakers), Failed)
    assert breakers.states() == {}


async def test_a_call_cut_off_by_the_step_s_deadline_counts_against_the_destination(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    breakers = CircuitBreakers(1, 60.0)
    config = HttpRequestConfig.model_validate(
        {"url": f"{echo_server.url}/slow?seconds=30", "timeout": 5}
    )
    context = step_context(EngineServices(http=http_client, breakers=breakers))
    # The step's deadline (engine.execute), as it may come before the call's own timeout.
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await execute(config, context)
    assert breakers.states() == {echo_server.url.removeprefix("http://"): CircuitState.OPEN}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Leases renewed every second: a worker soon hears that its step was taken over.
    return settings.model_copy(update={"step_circuit_failures": 2, "lease_seconds": 3.0})


def _http_step(url: str, retry: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": [node("call", "http_request", {"url": url, "retry": retry})], "edges": []}


async def _events(client: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/runs/{run_id}/events", params={"per_page": 200})
    found: list[dict[str, Any]] = response.json()
    return found


async def test_a_run_waits_as_long_as_retry_after_asks(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0.01, "max_backoff_seconds": 0.01}
    url = f"{echo_server.url}/status/429?retry_after=30"
    run = await start(client, await publish(client, _http_step(url, retry)))
    await wait_for_step(client, run["id"], "call", "retrying")

    retrying = [e for e in await _events(client, run["id"]) if e["event_type"] == "step.retrying"]
    assert retrying, "the step did not retry"
    assert retrying[0]["data"]["retry_in_seconds"] >= 30
    assert retrying[0]["data"]["kind"] == "error"


async def test_a_run_shows_the_open_circuit_in_its_events_and_metrics(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    retry = {"max_attempts": 1}
    url = f"{echo_server.url}/status/503"
    workflow_id = await publish(client, _http_step(url, retry))
    for _ in range(2):
        first = await start(client, workflow_id)
        await wait_for_step(client, first["id"], "call", "failed")
    refused = await start(client, workflow_id)
    await wait_for_step(client, refused["id"], "call", "failed")

    failed = [e for e in await _events(client, refused["id"]) if e["event_type"] == "step.failed"]
    assert failed[0]["data"]["kind"] == "circuit_open"
    assert failed[0]["data"]["circuit"] == "open"
    metrics = (await client.get("/metrics")).text
    destination = echo_server.url.removeprefix("http://")
    assert f'towpath_circuit_open{{destination="{destination}",state="open"}} 1.0' in metrics


async def test_calls_cut_off_by_their_runs_cancellation_leave_the_circuit_closed(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    held = await publish(client, _http_step(f"{echo_server.url}/slow?seconds=30", {}))
    for n in (1, 2):
        run = await start(client, held)
        await eventually(partial(_has, echo_server.requests, n), what="the call went out")
        await client.post(f"{API}/runs/{run['id']}/cancel")
        await eventually(partial(_has, echo_server.abandoned, n), what="the call was cut off")

    answered = await publish(client, _http_step(f"{echo_server.url}/echo", {"max_attempts": 1}))
    done = await wait_for(client, (await start(client, answered))["id"], "completed", "failed")
    assert done["status"] == "completed", done["error"]


async def test_calls_cut_off_by_a_takeover_leave_the_circuit_closed(
    client: httpx.AsyncClient, db: Database, echo_server: EchoServer
) -> None:
    held = await publish(client, _http_step(f"{echo_server.url}/slow?seconds=30", {}))
    for n in (1, 2):
        run = await start(client, held)
        await eventually(partial(_has, echo_server.requests, n), what="the call went out")
        # Another worker takes the step over, as its claim does once a frozen worker's
        # lease ran out; this one's next renewal finds the step no longer its own.
        async with db.transaction() as session:
            await session.execute(
                update(StepRun)
                .where(StepRun.run_id == run["id"])
                .values(
                    lease_owner="another-worker",
                    lease_token="another-token",
                    lease_expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )
        await eventually(partial(_has, echo_server.abandoned, n), what="the call was cut off")

    answered = await publish(client, _http_step(f"{echo_server.url}/echo", {"max_attempts": 1}))
    done = await wait_for(client, (await start(client, answered))["id"], "completed", "failed")
    assert done["status"] == "completed", done["error"]
