"""X-Forwarded-For is believed only from the proxies TOWPATH_TRUSTED_PROXIES names (none by
default, loopback included): a client cannot choose the address the audit log records nor
the one its rate limit counts."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
import pytest
from pydantic import ValidationError

from tests.runs import API, admin_headers
from towpath.app import create_app
from towpath.config import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

FORGED = "203.0.113.7"


@asynccontextmanager
async def _client(settings: Settings, **update: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=update))
    async with app.router.lifespan_context(app):
        # httpx's ASGI transport says the client is 127.0.0.1: a loopback peer.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://towpath.test", headers=await admin_headers(app)
        ) as client:
            yield client


async def _recorded_address(client: httpx.AsyncClient, forwarded_for: str) -> str | None:
    made = await client.post(
        f"{API}/api-keys",
        json={"name": forwarded_for, "role": "viewer"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    assert made.status_code == 201, made.text
    entries = (await client.get(f"{API}/audit", params={"resource_id": made.json()["id"]})).json()
    address: str | None = entries[0]["client_address"]
    return address


async def test_a_loopback_client_cannot_forge_its_address_by_default(settings: Settings) -> None:
    async with _client(settings) as client:
        assert await _recorded_address(client, FORGED) == "127.0.0.1"


async def test_a_forged_address_gets_no_fresh_rate_limit(settings: Settings) -> None:
    async with _client(
        # One token a minute: however slow the machine, none comes back mid-test.
        settings,
        rate_limit_address_per_minute=1,
        rate_limit_address_burst=3,
    ) as client:
        # Only requests that fail to authenticate count against an address.
        answers = [
            await client.get(
                f"{API}/workflows",
                headers={"X-Forwarded-For": f"198.51.100.{n}", "Authorization": "Bearer tp_bad"},
            )
            for n in range(4)
        ]

    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    assert answers[-1].json()["details"]["scope"] == "address"


async def test_a_trusted_proxy_names_the_client(settings: Settings) -> None:
    async with _client(settings, trusted_proxies=["127.0.0.0/8"]) as client:
        assert await _recorded_address(client, FORGED) == FORGED
        # Proxies append: the rightmost address that is not a trusted proxy is the client.
        chain = f"198.51.100.9, {FORGED}, 127.0.0.2"
        assert await _recorded_address(client, chain) == FORGED


async def test_a_proxy_not_in_the_list_is_not_believed(settings: Settings) -> None:
    async with _client(settings, trusted_proxies=["10.0.0.0/8", "::1"]) as client:
        assert await _recorded_address(client, FORGED) == "127.0.0.1"


def test_trusted_proxies_are_addresses_or_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWPATH_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,fd00::/8")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8"]
    monkeypatch.delenv("TOWPATH_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []

    with pytest.raises(ValidationError, match=r"not an address or CIDR: 'proxy\.internal'"):
        Settings(trusted_proxies=["proxy.internal"])
