"""How `towpath serve` hands out the console: the page at /ui and every path under it (the
console routes by itself), hashed assets cached for good, security headers, a plain word
when the files were not built, and sockets open to the console's own origin."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed

from tests.console.conftest import SHARED_LOOP, new_key
from tests.events.clients import receive, socket
from towpath.api.console import BUILT, console_routes

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.events.conftest import LiveServer

pytestmark = SHARED_LOOP
ASSETS = sorted(path.name for path in (BUILT / "assets").iterdir())
INDEX = (BUILT / "index.html").read_bytes()


@pytest_asyncio.fixture(loop_scope="session")
async def client(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """The console's files need no credential."""
    async with httpx.AsyncClient(base_url=live.http) as found:
        yield found


async def test_every_page_under_ui_is_the_console_itself(client: httpx.AsyncClient) -> None:
    for path in ("/ui/", "/ui/runs/0190", "/ui/workflows/x/stats"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.content == INDEX
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    bare = await client.get("/ui")
    assert (bare.status_code, bare.headers["location"]) == (308, "/ui/")


async def test_hashed_assets_are_cached_for_good_and_nothing_else_is_served(
    client: httpx.AsyncClient,
) -> None:
    script = next(name for name in ASSETS if name.endswith(".js"))
    found = await client.get(f"/ui/assets/{script}")
    assert found.status_code == 200
    assert found.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in found.headers["content-type"]
    assert f"/ui/assets/{script}".encode() in INDEX

    for path in (
        "/ui/assets/gone.js",
        "/ui/assets/%2e%2e/index.html",
        "/ui/assets/..%2F..%2Fapp.py",
    ):
        missing = await client.get(path)
        assert missing.status_code == 404, path
        assert missing.json()["error_code"] == "NOT_FOUND"


async def test_a_console_that_was_not_built_says_how_to_build_it(tmp_path: Path) -> None:
    bare = Starlette(routes=console_routes(tmp_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bare), base_url="http://towpath.test"
    ) as client:
        response = await client.get("/ui/runs")
    assert response.status_code == 503
    assert "scripts/console-build" in response.text


async def test_sockets_open_to_the_console_own_origin_only(
    live: LiveServer, workspace: str
) -> None:
    auth_headers = {"Authorization": f"Bearer {await new_key(live, 'viewer', workspace)}"}
    own = {**auth_headers, "Origin": live.http}
    async with socket(live, "/ws/inbox", own) as ws:
        assert (await receive(ws))["type"] == "snapshot"

    elsewhere = {**auth_headers, "Origin": "http://elsewhere.example"}
    async with socket(live, "/ws/inbox", elsewhere) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert (ws.close_code, ws.close_reason) == (4403, "origin not allowed")
