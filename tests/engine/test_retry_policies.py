"""A step's retry policy: `retry_on` picks the failures worth another attempt, and the
attempts are spaced by the backoff."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer


def _flaky(echo_server: EchoServer, key: str, **retry: Any) -> dict[str, Any]:
    config = {"url": f"{echo_server.url}/flaky/{key}?failures=2", "retry": retry}
    return {"nodes": [node("call", "http_request", config)], "edges": []}


@pytest.mark.parametrize(
    ("retry_on", "attempts", "status"),
    [(["5xx"], 3, "completed"), (["timeout", "network"], 1, "failed"), (None, 3, "completed")],
)
async def test_retry_on_picks_the_failures_worth_another_attempt(
    client: httpx.AsyncClient,
    echo_server: EchoServer,
    retry_on: list[str] | None,
    attempts: int,
    status: str,
) -> None:
    key = uuid.uuid4().hex
    retry: dict[str, Any] = {"max_attempts": 3, "backoff_seconds": 0.05, "max_backoff_seconds": 0.1}
    if retry_on is not None:
        retry["retry_on"] = retry_on
    run = await start(client, await publish(client, _flaky(echo_server, key, **retry)))

    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == status
    assert echo_server.calls(key) == attempts
    steps = await steps_by_id(client, run["id"])
    assert len(steps["call"]["attempts"]) == attempts
    assert [a.get("kind") for a in steps["call"]["attempts"][:-1]] == ["5xx"] * (attempts - 1)


async def test_attempts_are_spaced_by_the_backoff(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    key = uuid.uuid4().hex
    retry = {"max_attempts": 3, "backoff_seconds": 0.4, "max_backoff_seconds": 0.5}
    run = await start(client, await publish(client, _flaky(echo_server, key, **retry)))

    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed"
    attempts = (await steps_by_id(client, run["id"]))["call"]["attempts"]
    starts = [datetime.fromisoformat(a["started_at"]) for a in attempts]
    ends = [datetime.fromisoformat(a["ended_at"]) for a in attempts]
    # Full jitter on the upper half: at least half the backoff, capped by the maximum.
    assert (starts[1] - ends[0]).total_seconds() >= 0.2
    assert (starts[2] - ends[1]).total_seconds() >= 0.25
