"""Every error leaves in one shape, including the ones the framework's middleware gives."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

API = "/api/v1"


async def _preflight(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await client.options(
        f"{API}/workflows", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )


async def test_a_refused_cors_preflight_uses_the_envelope(client: httpx.AsyncClient) -> None:
    response = await _preflight(client, "https://elsewhere.example")

    assert response.status_code >= 400
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error_code", "message", "details", "request_id"}
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_a_refused_preflight_is_a_403_naming_what_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await _preflight(client, "https://elsewhere.example")

    assert response.status_code == 403
    body = response.json()
    assert body["error_code"] == "CORS_REFUSED"
    assert body["details"] == {"origin": "https://elsewhere.example", "refused": ["origin"]}
    assert "access-control-allow-origin" not in response.headers


async def test_an_allowed_preflight_is_still_answered_as_cors_says(
    client: httpx.AsyncClient,
) -> None:
    response = await _preflight(client, "http://localhost:5173")

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
