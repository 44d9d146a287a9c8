"""Health, docs, CORS, request ids, the catalog and the 500 envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from towpath.app import create_app
from towpath.config import Settings

if TYPE_CHECKING:
    import pytest
    from fastapi import FastAPI


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    ready = await client.get("/health/ready")

    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_readiness_is_503_when_the_database_is_gone(tmp_path: object) -> None:
    settings = Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_app(settings)
    # The lifespan would fail on the dead database; give the app a handle directly.
    from towpath.storage.database import Database

    app.state.db = Database(settings.database_url)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/health/ready")
    await app.state.db.dispose()

    assert response.status_code == 503
    assert response.json()["error_code"] == "NOT_READY"


async def test_docs_and_openapi(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    assert "/api/v1/workflows/{workflow_id}/publish" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/redoc")).status_code == 200


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    made = await client.get("/health")
    refused = await client.get("/health", headers={"X-Request-ID": "bad id\twith junk"})

    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert len(made.headers["X-Request-ID"]) == 32
    assert refused.headers["X-Request-ID"] != "bad id\twith junk"


async def test_cors_allows_the_configured_origin_only(client: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await client.options(
        "/api/v1/workflows", headers={"Origin": "http://localhost:5173", **preflight}
    )
    other = await client.options(
        "/api/v1/workflows", headers={"Origin": "http://evil.example", **preflight}
    )

    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "access-control-allow-origin" not in other.headers


async def test_unhandled_errors_are_a_500_envelope_without_a_traceback(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom", headers={"X-Request-ID": "req-500"})

    assert response.status_code == 500
    body = response.json()
    assert body["error_code"] == "INTERNAL_ERROR"
    assert body["request_id"] == "req-500"
    assert response.headers["X-Request-ID"] == "req-500"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert any("req-500" in record.getMessage() for record in caplog.records)


async def test_catalog_lists_every_step_type(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/catalog/steps")

    catalog = response.json()
    assert {entry["type"] for entry in catalog} == {
        "http_request", "agent", "llm", "condition", "switch", "transform",
        "for_each", "delay", "approval", "clarification", "sub_workflow", "wait_for_event",
        "task", "emit",
    }  # fmt: skip
    condition = next(e for e in catalog if e["type"] == "condition")
    assert condition["category"] == "logic"
    assert "expression" in condition["config_schema"]["properties"]
    assert all(e["icon"] and e["description"] for e in catalog)
