"""Requests are routed through an index of the routes' literal beginnings: every path the
API documents reaches its own operation, and what no route matches is answered as the
whole router answers it (404 in the envelope, 405 with `Allow`, a redirect)."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from towpath.api import route_index

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.types import ASGIApp, Message

    from towpath.config import Settings


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


@pytest.fixture
async def unauthenticated(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def _routed(router: ASGIApp, method: str, path: str) -> object:
    """The route `router` hands a request to (FastAPI names it in the scope before its
    dependencies run: without a credential, nothing of the endpoint's own runs)."""
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"t")], "client": ("127.0.0.1", 1),
        "server": ("t", 80), "state": {},
    }  # fmt: skip

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Message) -> None:
        return None

    with contextlib.suppress(Exception):
        await router(scope, receive, send)
    return scope.get("route")


async def test_every_documented_operation_reaches_the_route_the_whole_router_finds(
    app: FastAPI,
) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, route_index.RouteIndex)
    operations = [
        (method.upper(), _filled(path))
        for path, methods in app.openapi()["paths"].items()
        for method in methods
    ]
    assert len(operations) > 100
    for method, path in operations:
        through_index = await _routed(index, method, path)
        assert through_index is not None, (method, path)
        assert through_index is await _routed(app.router.app, method, path), (method, path)


async def test_no_route_falls_back_to_the_whole_router(
    app: FastAPI, unauthenticated: httpx.AsyncClient
) -> None:
    missing = await unauthenticated.get("/api/v1/nothing-here")
    wrong_method = await unauthenticated.put("/health")
    no_slash = await unauthenticated.get("/ui", follow_redirects=False)
    deeper = await unauthenticated.get("/health/ready/more")

    assert missing.status_code == 404
    assert missing.json()["error_code"] == "NOT_FOUND"
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]
    assert no_slash.status_code == 308
    assert no_slash.headers["location"].endswith("/ui/")
    assert deeper.status_code == 404


async def test_a_route_added_after_the_app_was_made_is_served(app: FastAPI) -> None:
    later = APIRouter()

    @later.get("/api/v1/added-later/{thing}")
    async def added(thing: str) -> dict[str, str]:
        return {"thing": thing}

    app.include_router(later)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/v1/added-later/kite")

    assert response.json() == {"thing": "kite"}


def test_a_wrapped_router_is_refused_loudly() -> None:
    """FastAPI may wrap its router (a body limit); routing around the wrapper would drop
    what it checks, so the index is not installed over one."""
    wrapped = APIRouter(max_body_size=10)

    with pytest.raises(RuntimeError, match="wrapped"):
        route_index.install(wrapped)


def test_every_route_is_filed_under_its_beginning(settings: Settings) -> None:
    """If FastAPI stops telling an included router's paths, each of its routes would be
    tried for every request: still right, but the index would be lost without a sound."""
    from towpath.app import create_app

    index = create_app(settings).router.middleware_stack
    assert isinstance(index, route_index.RouteIndex)
    assert index.everywhere() == []


async def test_the_first_route_that_matches_wins_as_in_the_whole_router() -> None:
    """Routes are tried in the order they were added, a route whose path begins with a
    parameter among them, as FastAPI tries them."""
    app = FastAPI()
    by_parameter, item, special = APIRouter(), APIRouter(), APIRouter()

    @by_parameter.get("/{kind}/deep/{name}")
    async def any_kind(kind: str, name: str) -> str:
        return "by parameter"

    @item.get("/api/items/{item_id}")
    async def one_item(item_id: str) -> str:
        return "item"

    @special.get("/api/items/special")
    async def the_special_one() -> str:
        return "special"

    for router in (by_parameter, item, special):
        app.include_router(router)
    route_index.install(app.router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        special_path = await client.get("/api/items/special")
        deep = await client.get("/api/deep/x")

    assert special_path.json() == "item"
    assert deep.json() == "by parameter"
