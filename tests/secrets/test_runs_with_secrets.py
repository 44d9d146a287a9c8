"""A run that reads a secret: the call gets the value, and no response, stored row, event,
log line or WebSocket frame holds it in any form."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tests.events.clients import approve, history, receive, socket, until_closed
from tests.factories import edge, node
from tests.runs import API, publish, start, wait_for
from tests.secrets.helpers import assert_absent, make_secret
from towpath.storage.models import Base

if TYPE_CHECKING:
    import httpx
    import pytest

    from tests.events.conftest import LiveServer
    from tests.servers import EchoServer
    from towpath.storage.database import Database

VALUE = "tp-Secret_9f8e7d/x+y=z"
REDACTED = "[secret:TOKEN]"
# Rows that hold a secret by design: encrypted, or the server's own keys.
KEPT_TABLES = {"workspace_secrets", "server_secrets"}


def gated_call(url: str) -> dict[str, Any]:
    """gate (an approval) -> call (sends the secret) -> after (reads the call's output)."""
    call = {
        "url": url + "?token={{ secrets.TOKEN }}",
        "method": "POST",
        "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"},
        "body": {"note": "no secret here"},
    }
    return {
        "nodes": [
            node("gate", "approval", {"message": "go?"}),
            node("call", "http_request", call),
            node("after", "transform", {"output": {"seen": "{{ call.body.headers }}"}}),
        ],
        "edges": [edge("gate", "call"), edge("call", "after")],
    }


async def every_stored_row(db: Database) -> str:
    found = []
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in KEPT_TABLES:
                rows = (await session.execute(select(table))).all()
                found.append(f"{table.name}: {[tuple(row) for row in rows]!r}")
    return "\n".join(found)


async def api_views(client: httpx.AsyncClient, run_id: str) -> dict[str, str]:
    paths = ["", "/steps", "/events", "/logs", "/context"]
    views = {}
    for path in paths:
        response = await client.get(f"{API}/runs/{run_id}{path}")
        if response.status_code != 404:
            views[path or "/"] = response.text
    return views


async def test_a_secret_reaches_the_call_and_nothing_else(
    server: LiveServer,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    echo_server: EchoServer,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await make_secret(client, "TOKEN", VALUE)
    workflow_id = await publish(client, gated_call(f"{echo_server.url}/echo"))
    run_id = (await start(client, workflow_id))["id"]
    await wait_for(client, run_id, "waiting")
    async with socket(server, f"/ws/runs/{run_id}", auth_headers) as ws:
        frames = [await receive(ws)]
        await approve(client, run_id)
        frames += await until_closed(ws)
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "completed", done["error"]

    # The call itself carried the value.
    (sent,) = echo_server.requests
    assert sent.headers["authorization"] == f"Bearer {VALUE}"
    # Its output, as echoed back, shows the redacted form; so does what read it.
    steps = {s["step_id"]: s for s in (await client.get(f"{API}/runs/{run_id}/steps")).json()}
    echoed = steps["call"]["output"]["body"]["headers"]
    assert echoed["authorization"] == f"Bearer {REDACTED}"
    assert steps["call"]["input"]["headers"]["Authorization"] == f"Bearer {REDACTED}"
    assert REDACTED in steps["call"]["input"]["url"]
    assert steps["after"]["output"]["seen"]["authorization"] == f"Bearer {REDACTED}"

    assert_absent(json.dumps(frames), VALUE, "the WebSocket frames")
    assert any(frame.get("event_type") == "step.completed" for frame in frames)
    for path, text in (await api_views(client, run_id)).items():
        assert_absent(text, VALUE, f"GET /runs/{{id}}{path}")
    assert_absent(json.dumps(await history(client, run_id)), VALUE, "the events")
    assert_absent(await every_stored_row(db), VALUE, "the database")
    assert_absent("\n".join(r.getMessage() for r in caplog.records), VALUE, "the log")


async def test_an_error_that_quotes_the_secret_is_redacted(
    client: httpx.AsyncClient, echo_server: EchoServer, db: Database
) -> None:
    await make_secret(client, "TOKEN", VALUE)
    call = {"url": f"{echo_server.url}/status/500?body=" + "{{ secrets.TOKEN }}"}
    workflow_id = await publish(client, {"nodes": [node("call", "http_request", call)]})
    run_id = (await start(client, workflow_id))["id"]
    done = await wait_for(client, run_id, "failed")
    for path, text in (await api_views(client, run_id)).items():
        assert_absent(text, VALUE, f"GET /runs/{{id}}{path}")
    assert_absent(await every_stored_row(db), VALUE, "the database")
    assert REDACTED in json.dumps(done) or REDACTED in await every_stored_row(db)


async def test_a_rotated_secret_is_what_the_next_run_sends(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    await make_secret(client, "TOKEN", "first-value")
    call = {"url": f"{echo_server.url}/echo", "headers": {"X-Key": "{{ secrets.TOKEN }}"}}
    workflow_id = await publish(client, {"nodes": [node("call", "http_request", call)]})
    first = (await start(client, workflow_id))["id"]
    assert (await wait_for(client, first, "completed", "failed"))["status"] == "completed"
    rotated = await client.post(f"{API}/secrets/TOKEN/rotate", json={"value": "second-value"})
    assert rotated.status_code == 200
    second = (await start(client, workflow_id))["id"]
    assert (await wait_for(client, second, "completed", "failed"))["status"] == "completed"
    assert [r.headers["x-key"] for r in echo_server.requests] == ["first-value", "second-value"]


async def test_a_log_line_that_quotes_the_secret_is_redacted(
    client: httpx.AsyncClient, echo_server: EchoServer, db: Database
) -> None:
    # A value a query string carries as it is (a `+` would arrive as a space).
    value = "tp-Log_Secret-77aa"
    await make_secret(client, "TOKEN", value)
    # A server that answers 401 quoting the credential it was sent, as many do.
    call = {
        "url": f"{echo_server.url}/status/401?body=bad+key+" + "{{ secrets.TOKEN }}",
        "headers": {"Authorization": "token {{ secrets.TOKEN }}"},
    }
    workflow_id = await publish(client, {"nodes": [node("call", "http_request", call)]})
    run_id = (await start(client, workflow_id))["id"]
    await wait_for(client, run_id, "failed")

    logs = (await client.get(f"{API}/runs/{run_id}/logs")).json()
    assert logs, "the attempt wrote no log line"
    assert REDACTED in json.dumps(logs)
    for path, text in (await api_views(client, run_id)).items():
        assert_absent(text, value, f"GET /runs/{{id}}{path}")
    assert_absent(await every_stored_row(db), value, "the database")
