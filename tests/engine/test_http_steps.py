"""HTTP steps inside runs: outputs downstream, retries with backoff, timeouts, cancellation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for, wait_for_step
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer


def _call(url: str, **config: Any) -> dict[str, Any]:
    return {
        "nodes": [
            node("call", "http_request", {"method": "POST", "url": url, **config}),
            node("use", "transform", {"output": {"status": "{{ call.status }}"}}),
        ],
        "edges": [edge("call", "use")],
    }


async def test_the_response_reaches_the_next_step(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    definition = _call(f"{echo_server.url}/echo", body={"user": "{{ input.user }}"})
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id, {"user": "ada"})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert done["context"]["use"] == {"status": 200}
    assert done["context"]["call"]["body"]["json"] == {"user": "ada"}
    sent = echo_server.requests[-1]
    assert sent.headers["idempotency-key"] == f"{run['id']}:call:1"


async def test_a_flaky_call_is_retried_until_it_succeeds(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    retry = {"max_attempts": 4, "backoff_seconds": 0.05, "max_backoff_seconds": 0.1}
    definition = _call(f"{echo_server.url}/flaky/{{{{ input.key }}}}?failures=2", retry=retry)
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id, {"key": "k1"})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    assert echo_server.calls("k1") == 3
    step = (await steps_by_id(client, run["id"]))["call"]
    assert step["attempt"] == 3
    assert [a["outcome"] for a in step["attempts"]] == ["failed", "failed", "completed"]
    keys = [r.headers["idempotency-key"] for r in echo_server.requests]
    assert keys == [f"{run['id']}:call:{n}" for n in (1, 2, 3)]
    events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
    assert [e["event_type"] for e in events].count("step.retrying") == 2


async def test_retries_give_up_after_max_attempts(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0.01}
    workflow_id = await publish(
        client, _call(f"{echo_server.url}/flaky/k2?failures=5", retry=retry)
    )

    done = await wait_for(client, (await start(client, workflow_id))["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "503" in done["error"]
    assert echo_server.calls("k2") == 2


async def test_a_client_error_is_not_retried(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    retry = {"max_attempts": 3, "backoff_seconds": 0.01}
    workflow_id = await publish(client, _call(f"{echo_server.url}/status/404", retry=retry))

    run = await start(client, workflow_id)
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert (await steps_by_id(client, run["id"]))["call"]["attempt"] == 1


async def test_a_step_timeout_fails_the_step(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    workflow_id = await publish(client, _call(f"{echo_server.url}/slow?seconds=3", timeout=0.3))

    done = await wait_for(client, (await start(client, workflow_id))["id"], "completed", "failed")

    assert done["status"] == "failed"
    # The call's own timeout and the step's deadline are the same 0.3 s: either may say it.
    error = done["error"]
    assert "took longer than its timeout of 0.3s" in error or "within 0.3 seconds" in error


async def test_a_run_timeout_fails_the_run(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    # The call outlasts the run's timeout however late a loaded machine notices it.
    definition = _call(f"{echo_server.url}/slow?seconds=30", timeout=60)
    definition["timeout_seconds"] = 0.5
    workflow_id = await publish(client, definition)

    done = await wait_for(client, (await start(client, workflow_id))["id"], "completed", "failed")

    assert done["status"] == "failed"
    assert "timeout" in done["error"]


async def test_cancel_abandons_an_http_call_in_flight(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    workflow_id = await publish(client, _call(f"{echo_server.url}/slow?seconds=30", timeout=60))
    run = await start(client, workflow_id)
    await wait_for_step(client, run["id"], "call", "running")
    await eventually(lambda: bool(echo_server.requests), what="the call went out")

    cancelled = await client.post(f"{API}/runs/{run['id']}/cancel")
    # The echo server sees the client leave long before its 30 s answer.
    await eventually(lambda: bool(echo_server.abandoned), what="the call was abandoned")

    assert cancelled.json()["status"] == "cancelled"
    steps = await steps_by_id(client, run["id"])
    assert steps["call"]["status"] == "cancelled"
    assert "use" not in steps
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "cancelled"


async def test_each_attempt_is_told_in_the_run_log_and_as_it_happens(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    retry = {"max_attempts": 2, "backoff_seconds": 0.05, "max_backoff_seconds": 0.1}
    url = f"{echo_server.url}/flaky/logged?failures=1&token=s3cret"
    workflow_id = await publish(client, _call(url, retry=retry))

    run = await start(client, workflow_id)
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    logs = (await client.get(f"{API}/runs/{run['id']}/logs")).json()
    where = f"POST {echo_server.url}/flaky/logged"
    assert [(line["step_id"], line["level"]) for line in logs] == [
        ("call", "warning"),
        ("call", "info"),
    ]
    assert logs[0]["message"].startswith(f"{where} failed after ")
    assert "503" in logs[0]["message"]
    assert logs[1]["message"].startswith(f"{where}: 200 in ")
    # The query string may hold a secret: it is never written down.
    assert all("s3cret" not in line["message"] for line in logs)
    events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
    told = [e["data"]["message"] for e in events if e["event_type"] == "step.log"]
    assert told == [line["message"] for line in logs]
