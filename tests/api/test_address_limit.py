"""The address limit counts requests that fail to authenticate, not a client whose
credential works; by default one key is not throttled at all."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx

from tests.runs import API, admin_headers
from towpath.app import create_app
from towpath.config import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI


@asynccontextmanager
async def _served(settings: Settings, **update: object) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update=update))
    async with app.router.lifespan_context(app):
        yield app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://towpath.test")


async def test_a_working_credential_is_not_counted_against_its_address(
    settings: Settings,
) -> None:
    # One token a minute: however slow the machine, none comes back mid-test.
    async with _served(
        settings, rate_limit_address_per_minute=1, rate_limit_address_burst=3
    ) as app:
        headers = await admin_headers(app)
        async with _client(app) as client:
            answers = [await client.get(f"{API}/workflows", headers=headers) for _ in range(10)]

    assert {answer.status_code for answer in answers} == {200}


async def test_guessing_keys_locks_the_address_out_before_any_key_is_checked(
    settings: Settings,
) -> None:
    async with _served(
        settings, rate_limit_address_per_minute=1, rate_limit_address_burst=3
    ) as app:
        headers = await admin_headers(app)
        async with _client(app) as client:
            guesses = [
                await client.get(f"{API}/workflows", headers={"Authorization": f"Bearer tp_{n}"})
                for n in range(4)
            ]
            # The right key from the same address now waits too: the address is refused
            # before its credential is looked at.
            after = await client.get(f"{API}/workflows", headers=headers)

    assert [guess.status_code for guess in guesses] == [401, 401, 401, 429]
    assert guesses[-1].json()["details"]["scope"] == "address"
    assert after.status_code == 429


async def test_requests_without_a_credential_are_counted(settings: Settings) -> None:
    async with (
        _served(settings, rate_limit_address_per_minute=1, rate_limit_address_burst=2) as app,
        _client(app) as client,
    ):
        answers = [await client.get("/openapi.json") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]


async def test_by_default_one_key_is_not_throttled(settings: Settings) -> None:
    defaults = Settings(database_url=settings.database_url)
    async with _served(
        settings,
        rate_limit_address_per_minute=defaults.rate_limit_address_per_minute,
        rate_limit_address_burst=defaults.rate_limit_address_burst,
        rate_limit_credential_per_minute=defaults.rate_limit_credential_per_minute,
        rate_limit_credential_burst=defaults.rate_limit_credential_burst,
    ) as app:
        headers = await admin_headers(app)
        async with _client(app) as client:
            # More than both default bursts, back to back from one address and one key.
            count = defaults.rate_limit_address_burst + defaults.rate_limit_credential_burst + 50
            answers = [await client.get(f"{API}/workflows", headers=headers) for _ in range(count)]

    assert {answer.status_code for answer in answers} == {200}
