"""The parts of other packages towpath subclasses or reaches into are still there.

pyproject.toml holds each of these packages below its next major version; within that
range a minor release may still move a private part. Each check fails naming the part
and the towpath module that relies on it, so an upgrade that breaks one says so here
rather than as a stray AttributeError in a server."""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING, Any

import aiohttp
import httpcore
import httpx
import pytest
import uvicorn
from fastapi import APIRouter
from sqlalchemy import func, select
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import StreamingResponse
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.server import ServerProtocol

from towpath.steps.egress import DestinationRefused, EgressPolicy
from towpath.steps.http_client import step_session
from towpath.storage.models import StepRun
from towpath.storage.sqlite_reads import _is_entity

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send


def needs(condition: bool, part: str, user: str) -> None:
    if not condition:
        pytest.fail(
            f"{part} moved or changed, and {user} relies on it: adapt {user} to the new "
            "release, or hold the package below it in pyproject.toml",
            pytrace=False,
        )


async def no_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI application that is never called: the checks only build what wraps it."""


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_uvicorn_websocket_protocol_internals() -> None:
    user = "towpath.api.websocket_protocol"
    for method in ("data_received", "handle_connect", "send"):
        needs(
            callable(getattr(WebSocketsSansIOProtocol, method, None)),
            f"uvicorn's WebSocketsSansIOProtocol.{method}",
            user,
        )
    needs(
        parameters(WebSocketsSansIOProtocol.handle_connect) == ["self", "event"],
        "uvicorn's WebSocketsSansIOProtocol.handle_connect(event)",
        user,
    )
    config = uvicorn.Config(app=no_app, ws="websockets-sansio", log_config=None)
    config.load()
    loop = asyncio.new_event_loop()
    try:
        protocol = WebSocketsSansIOProtocol(
            config=config, server_state=ServerState(), app_state={}, _loop=loop
        )
    except TypeError as exc:
        needs(False, f"uvicorn's WebSocketsSansIOProtocol constructor ({exc})", user)
        raise
    finally:
        loop.close()
    for name in ("handshake_initiated", "handshake_complete", "close_sent", "disconnected"):
        needs(
            getattr(protocol, name, None) is False,
            f"uvicorn's WebSocketsSansIOProtocol.{name} flag",
            user,
        )
    needs(protocol.loop is loop, "uvicorn's WebSocketsSansIOProtocol.loop", user)
    needs(
        isinstance(getattr(protocol, "writable", None), asyncio.Event),
        "uvicorn's WebSocketsSansIOProtocol.writable event (write flow control)",
        user,
    )
    needs(
        isinstance(getattr(protocol, "conn", None), ServerProtocol),
        "uvicorn's WebSocketsSansIOProtocol.conn (a websockets ServerProtocol)",
        user,
    )
    for method in ("data_to_send", "send_text", "send_binary"):
        needs(callable(getattr(ServerProtocol, method, None)), f"websockets' {method}", user)
    needs(hasattr(protocol.conn, "handshake_exc"), "websockets' ServerProtocol.handshake_exc", user)


def test_uvicorn_private_types_and_server() -> None:
    from uvicorn import _types

    needs(
        hasattr(_types, "ASGISendEvent"),
        "uvicorn._types.ASGISendEvent",
        "towpath.api.websocket_protocol",
    )
    capture = getattr(uvicorn.Server, "capture_signals", None)
    needs(
        capture is not None and parameters(capture) == ["self"],
        "uvicorn.Server.capture_signals()",
        "towpath.worker_process",
    )


def test_aiohttp_connector_resolves_every_host_through_one_method() -> None:
    user = "towpath.steps.http_client"
    resolve = getattr(aiohttp.TCPConnector, "_resolve_host", None)
    needs(
        inspect.iscoroutinefunction(resolve),
        "aiohttp.TCPConnector._resolve_host (a coroutine)",
        user,
    )
    needs(
        parameters(resolve) == ["self", "host", "port", "traces"],
        "aiohttp.TCPConnector._resolve_host(host, port, traces)",
        user,
    )
    # Every direct connection asks it for its addresses, a literal IP included.
    source = inspect.getsource(aiohttp.TCPConnector._create_direct_connection)
    needs(
        "self._resolve_host(" in source,
        "aiohttp.TCPConnector._create_direct_connection calling _resolve_host",
        user,
    )


async def test_aiohttp_connector_refuses_a_literal_address_the_policy_refuses() -> None:
    policy = EgressPolicy.parse([])
    async with step_session(policy) as session:
        with pytest.raises(DestinationRefused):
            await session.get("http://127.0.0.1:9/")


def test_httpcore_network_backend() -> None:
    user = "towpath.steps.egress"
    backend = httpcore.AsyncNetworkBackend
    needs(
        parameters(backend.connect_tcp)
        == ["self", "host", "port", "timeout", "local_address", "socket_options"],
        "httpcore.AsyncNetworkBackend.connect_tcp's arguments",
        user,
    )
    needs(
        parameters(backend.connect_unix_socket) == ["self", "path", "timeout", "socket_options"],
        "httpcore.AsyncNetworkBackend.connect_unix_socket's arguments",
        user,
    )
    needs(
        parameters(backend.sleep) == ["self", "seconds"], "httpcore.AsyncNetworkBackend.sleep", user
    )
    needs(hasattr(httpcore, "AnyIOBackend"), "httpcore.AnyIOBackend", user)


def test_httpx_still_imports_its_command_line() -> None:
    # towpath/__init__.py stands a stub in for httpx._main, which httpx imports eagerly.
    source = inspect.getsource(httpx)
    needs(
        "from ._main import main" in source,
        "httpx's eager import of httpx._main",
        "towpath/__init__.py (its stub is no longer needed; remove it)",
    )


def test_starlette_cors_and_streaming_internals() -> None:
    user = "towpath.api.cors"
    needs(
        parameters(CORSMiddleware.preflight_response) == ["self", "request_headers"],
        "starlette's CORSMiddleware.preflight_response(request_headers)",
        user,
    )
    middleware = CORSMiddleware(app=no_app, allow_origins=["https://a.example"])
    asked = {"origin": "https://b.example", "access-control-request-method": "GET"}
    refused = middleware.preflight_response(Headers(headers=asked))
    needs(
        bytes(refused.body).startswith(b"Disallowed CORS "),
        "starlette's plain-text refusal of a preflight ('Disallowed CORS ...')",
        user,
    )
    user = "towpath.api.routes.streams"
    needs(
        parameters(StreamingResponse.stream_response) == ["self", "send"],
        "starlette's StreamingResponse.stream_response(send)",
        user,
    )
    needs(
        parameters(StreamingResponse.listen_for_disconnect) == ["self", "receive"],
        "starlette's StreamingResponse.listen_for_disconnect(receive)",
        user,
    )


def test_sqlalchemy_tells_a_selected_entity_from_columns() -> None:
    user = "towpath.storage.sqlite_reads"
    needs(
        all(_is_entity(selected) for selected in select(StepRun)._raw_columns),
        "SQLAlchemy's Select._raw_columns holding an entity as its table, annotated 'parententity'",
        user,
    )
    columns = select(StepRun.id, func.count(), StepRun.__table__.c.run_id)
    needs(
        not any(_is_entity(selected) for selected in columns._raw_columns),
        "SQLAlchemy's Select._raw_columns holding columns and functions as such",
        user,
    )


def test_uvicorn_http_protocol_internals() -> None:
    user = "towpath.api.http_protocol"
    for method in ("connection_made", "handle_websocket_upgrade"):
        needs(callable(getattr(HttpToolsProtocol, method, None)), f"uvicorn's {method}", user)
    source = inspect.getsource(HttpToolsProtocol.handle_websocket_upgrade)
    needs(
        "protocol.connection_made(self.transport)" in source,
        "uvicorn's upgrade handing self.transport to the WebSocket protocol",
        user,
    )
    needs(
        "self.transport = transport" in inspect.getsource(HttpToolsProtocol.connection_made),
        "uvicorn's HttpToolsProtocol.transport, set in connection_made",
        user,
    )


def test_fastapi_routing_internals() -> None:
    user = "towpath.api.route_index"
    router = APIRouter()

    @router.get("/api/v1/things/{thing_id}")
    async def thing(thing_id: str) -> str:
        return thing_id

    top = APIRouter()
    top.include_router(router)
    needs(top.middleware_stack == top.app, "Starlette's Router.middleware_stack", user)
    needs(callable(getattr(top, "default", None)), "Starlette's Router.default", user)
    needs(hasattr(top, "form_limits"), "FastAPI's APIRouter.form_limits", user)
    included = top.routes[0]
    contexts = getattr(included, "effective_route_contexts", None)
    needs(callable(contexts), "FastAPI's included router effective_route_contexts()", user)
    assert callable(contexts)
    paths = [getattr(context, "path_format", None) for context in contexts()]
    needs(
        paths == ["/api/v1/things/{thing_id}"],
        "FastAPI's effective route context path_format",
        user,
    )
