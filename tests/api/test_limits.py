"""Rate limits per address and per credential: 429 with Retry-After; probes exempt."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.runs import admin_headers
from towpath.api.rate_limit import RateLimiter
from towpath.app import create_app

if TYPE_CHECKING:
    from towpath.config import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(60, 2, clock=clock)

    assert limiter.take("a") is None
    assert limiter.take("a") is None
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") is None
    clock.now = 1.0
    assert limiter.take("a") is None
    assert RateLimiter(0, 1).take("a") is None


def test_the_least_recently_seen_buckets_are_dropped() -> None:
    limiter = RateLimiter(60, 1, max_keys=2)
    for key in ("a", "b", "c"):
        limiter.take(key)

    assert limiter.take("a") is None  # forgotten, so full again


async def test_an_address_over_its_rate_gets_429_but_health_does_not(
    settings: Settings,
) -> None:
    limited = settings.model_copy(
        # One token a minute: however slow the machine, no token comes back mid-test.
        update={"rate_limit_address_per_minute": 1, "rate_limit_address_burst": 3}
    )
    app = create_app(limited)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = [await client.get("/api/v1/workflows") for _ in range(4)]
            health = [await client.get("/health") for _ in range(5)]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    refused = answers[-1]
    assert refused.json()["error_code"] == "RATE_LIMITED"
    assert refused.json()["details"]["scope"] == "address"
    assert int(refused.headers["Retry-After"]) >= 1
    assert {h.status_code for h in health} == {200}


async def test_a_credential_over_its_rate_gets_429(settings: Settings) -> None:
    limited = settings.model_copy(
        update={"rate_limit_credential_per_minute": 1, "rate_limit_credential_burst": 2}
    )
    app = create_app(limited)
    async with app.router.lifespan_context(app):
        headers = await admin_headers(app)
        other = await admin_headers(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = [await client.get("/api/v1/workflows", headers=headers) for _ in range(3)]
            others = await client.get("/api/v1/workflows", headers=other)

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].json()["details"]["scope"] == "credential"
    # The next token is a minute away, less what has passed since the burst was spent.
    assert 50 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert others.status_code == 200


async def test_a_body_over_the_limit_is_413(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_request_bytes": 100}))
    async with app.router.lifespan_context(app):
        headers = await admin_headers(app)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/api/v1/workflows", json={"name": "x" * 200}, headers=headers
            )

    assert response.status_code == 413
