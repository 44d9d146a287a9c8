"""Operations: /metrics, statistics over runs, JSON logs, readiness of configured parts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from towpath.app import create_app
from towpath.events.bus import PublishedEvent
from towpath.observability.logs import JsonFormatter, log_context
from towpath.worker_process import metrics_app

if TYPE_CHECKING:
    from fastapi import FastAPI

    from towpath.config import Settings


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        named = line.startswith((name + "{", name + " "))
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_requests_runs_steps_and_sockets(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    definition = {"nodes": [node("t", "transform", {"output": {"x": 1}})], "edges": []}
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "completed")
    waiting = await publish(
        client, {"nodes": [node("a", "approval", {"message": "ok?"})], "edges": []}
    )
    await wait_for(client, (await start(client, waiting))["id"], "waiting")
    with app.state.metrics.socket_open("websocket"):
        text = (await client.get("/metrics")).text

    route = "/api/v1/runs/{run_id}"
    assert _sample(text, "towpath_http_request_duration_seconds_count", route=route) >= 1
    assert 'route="/api/v1/runs/' + run["id"] not in text
    assert _sample(text, "towpath_runs_finished_total", status="completed") == 1
    assert (
        _sample(text, "towpath_steps_finished_total", status="completed", step_type="transform")
        == 1
    )
    assert _sample(text, "towpath_runs", status="waiting") == 1
    assert _sample(text, "towpath_steps", status="waiting", step_type="approval") == 1
    assert "towpath_queue_depth" in text
    assert _sample(text, "towpath_open_sockets", kind="websocket") == 1


def test_step_durations_and_lease_expiries_come_from_committed_events(app: FastAPI) -> None:
    metrics = app.state.metrics
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def event(kind: str, seconds: float, **data: object) -> PublishedEvent:
        moment = start + timedelta(seconds=seconds)
        return PublishedEvent("w", "r", "wf", 1, kind, "s", dict(data), moment)

    http = {"step_type": "http_request"}
    metrics.on_event(event("step.queued", 0, **http))
    metrics.on_event(event("step.started", 1, attempt=1, worker="a", **http))
    metrics.on_event(event("step.started", 2, attempt=1, worker="b", reclaimed_from="a", **http))
    metrics.on_event(event("step.completed", 4.5, attempt=1, **http))
    metrics.on_event(event("run.failed", 5))

    histogram = metrics.step_duration.labels("http_request", "completed")
    assert histogram._sum.get() == 2.5
    assert metrics.lease_expiries._value.get() == 1
    assert metrics.runs_finished.labels("failed")._value.get() == 1


def test_a_step_that_waits_is_not_remembered_meanwhile(app: FastAPI) -> None:
    metrics = app.state.metrics
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(1000):
        for kind in ("step.started", "step.waiting"):
            data = {"step_type": "approval"}
            metrics.on_event(PublishedEvent("w", f"r{n}", "wf", 1, kind, "ask", data, moment))

    # A thousand runs waiting for a person hold nothing in this process.
    assert len(metrics._started) == 0


async def test_metrics_need_the_token_when_one_is_set(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": "scrape-me"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            refused = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})

    assert (refused.status_code, wrong.status_code, allowed.status_code) == (401, 401, 200)


async def test_a_worker_serves_its_metrics_and_health(app: FastAPI) -> None:
    worker = metrics_app(app.state.db, app.state.metrics, "")
    transport = httpx.ASGITransport(app=worker)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        metrics = await client.get("/metrics")
        ready = await client.get("/health/ready")

    assert "towpath_queue_depth" in metrics.text
    assert ready.json()["status"] == "ready"


async def test_workflow_stats_over_a_window(client: httpx.AsyncClient) -> None:
    definition = {
        "nodes": [node("t", "transform", {"output": {"x": "{{ 1 / input.d }}"}})],
        "edges": [],
    }
    workflow_id = await publish(client, definition)
    for d in (1, 1, 1, 0):
        run = await start(client, workflow_id, {"d": d})
        await wait_for(client, run["id"], "completed", "failed")

    stats = (await client.get(f"{API}/workflows/{workflow_id}/stats")).json()
    empty = await client.get(
        f"{API}/workflows/{workflow_id}/stats", params={"until": "2020-01-01T00:00:00Z"}
    )
    backwards = await client.get(
        f"{API}/workflows/{workflow_id}/stats",
        params={"since": "2030-01-01T00:00:00Z", "until": "2020-01-01T00:00:00Z"},
    )
    missing = await client.get(f"{API}/workflows/nope/stats")

    assert stats["total_runs"] == 4
    assert stats["by_status"] == {"completed": 3, "failed": 1}
    assert stats["success_rate"] == 0.75
    durations = stats["duration_seconds"]
    assert durations["count"] == 4
    assert 0 <= durations["min"] <= durations["avg"] <= durations["p95"] <= durations["max"]
    assert empty.json()["total_runs"] == 0
    assert empty.json()["duration_seconds"]["p95"] is None
    assert backwards.status_code == 400
    assert missing.status_code == 404


def test_log_lines_are_json_with_the_ids_in_context() -> None:
    record = logging.makeLogRecord(
        {"name": "towpath.engine", "msg": "step %s done", "args": ("s",)}
    )
    with log_context(request_id="req-1", run_id="run-1", step_id="step-1"):
        line = json.loads(JsonFormatter().format(record))
    outside = json.loads(JsonFormatter().format(record))

    assert line["message"] == "step s done"
    assert (line["request_id"], line["run_id"], line["step_id"]) == ("req-1", "run-1", "step-1")
    assert "run_id" not in outside


async def test_readiness_checks_the_jwks_when_one_is_configured(settings: Settings) -> None:
    configured = settings.model_copy(update={"jwt_jwks_url": "http://127.0.0.1:9/jwks.json"})
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["details"] == {"jwks": "unreachable"}
