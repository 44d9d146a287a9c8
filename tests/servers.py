"""Real local HTTP servers for tests: an echo server, an OpenAI-compatible fake and an agent.

Each server is a small Starlette app served by uvicorn on 127.0.0.1 in a background thread,
started the first time a test asks for it and stopped when pytest finishes. The fixtures
(`echo_server`, `llm_server`, `agent_server`, `jwks_server`) hand a test the running
server with its recorded requests cleared. The root conftest can register them for every
test with `pytest_plugins = ["tests.servers"]`; a test module can also bind them by name
(`echo_server = servers.echo_server`), and still shares the one running server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from towpath.config import KEEP_ALIVE_SECONDS
from towpath.steps.egress import EgressPolicy
from towpath.steps.execution import EngineServices, StepContext
from towpath.steps.http_client import step_session

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    import aiohttp
    from starlette.requests import Request

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MIB = 1024 * 1024


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    # Lower-case names, as Starlette gives them.
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class RecordingServer:
    """A running test server: its base URL and every request it received since `reset()`."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[RecordedRequest] = []

    def app(self) -> Starlette:
        raise NotImplementedError

    def reset(self) -> None:
        self.requests.clear()

    async def record(self, request: Request) -> RecordedRequest:
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers=dict(request.headers),
            body=await request.body(),
        )
        # Appends happen on the server's thread; a list append is atomic under the GIL.
        self.requests.append(recorded)
        return recorded


class EchoServer(RecordingServer):
    """Answers with what it received, a chosen status, slowly, as text, big, or flakily."""

    def __init__(self) -> None:
        super().__init__()
        self._flaky_calls: dict[str, int] = {}
        # Paths of `/slow` and `/stall` calls whose client left before the answer.
        self.abandoned: list[str] = []

    def reset(self) -> None:
        super().reset()
        self._flaky_calls.clear()
        self.abandoned.clear()

    def calls(self, key: str) -> int:
        """How many times `/flaky/{key}` was called since the last reset."""
        return self._flaky_calls.get(key, 0)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/echo", self._echo, methods=ALL_METHODS),
                Route("/status/{code:int}", self._status, methods=ALL_METHODS),
                Route("/slow", self._slow, methods=ALL_METHODS),
                Route("/text", self._text, methods=["GET"]),
                Route("/raw", self._raw, methods=["GET"]),
                Route("/big", self._big, methods=["GET"]),
                Route("/flaky/{key}", self._flaky, methods=ALL_METHODS),
                Route("/stall/{key}", self._stall, methods=ALL_METHODS),
                Route("/redirect", self._redirect, methods=ALL_METHODS),
                Route("/loop", self._loop, methods=ALL_METHODS),
                Route("/cookie", self._cookie, methods=ALL_METHODS),
            ]
        )

    async def _echo(self, request: Request) -> Response:
        recorded = await self.record(request)
        return JSONResponse(
            {
                "method": recorded.method,
                "path": recorded.path,
                "query": recorded.query,
                "headers": recorded.headers,
                "body": recorded.body.decode(errors="replace"),
                "json": recorded.json,
            }
        )

    async def _status(self, request: Request) -> Response:
        """`/status/503?body=...&repeat=n&retry_after=s`: that status, with a text body (n
        times over) and, when given, a `Retry-After` header."""
        await self.record(request)
        code: int = request.path_params["code"]
        if code < 200 or code in (204, 304):
            return Response(status_code=code)
        body = request.query_params.get("body", f"status {code}")
        after = request.query_params.get("retry_after")
        headers = {"Retry-After": after} if after is not None else None
        text = body * int(request.query_params.get("repeat", "1"))
        return PlainTextResponse(text, code, headers=headers)

    async def _slow(self, request: Request) -> Response:
        """`/slow?seconds=x`: answers after x seconds, unless the client leaves first."""
        await self.record(request)
        seconds = float(request.query_params.get("seconds", "1"))
        # Waiting on the connection rather than sleeping ends the handler as soon as a
        # client gives up, so no abandoned request outlives its test.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while (await request.receive())["type"] != "http.disconnect":
                    pass
                self.abandoned.append(request.url.path)
                return Response(status_code=499)
        return JSONResponse({"slept": seconds})

    async def _cookie(self, request: Request) -> Response:
        """Sets a session cookie, as a site a step logs in to would."""
        await self.record(request)
        response = JSONResponse({"signed_in": True})
        response.set_cookie("session", "of-the-first-caller", path="/")
        return response

    async def _text(self, request: Request) -> Response:
        await self.record(request)
        return PlainTextResponse("hello from the echo server")

    async def _raw(self, request: Request) -> Response:
        """`/raw?content_type=...&body=...&content_encoding=...`: exactly that, unchecked."""
        await self.record(request)
        query = request.query_params
        encoding = query.get("content_encoding")
        return Response(
            query.get("body", ""),
            media_type=query.get("content_type", "application/octet-stream"),
            headers={"Content-Encoding": encoding} if encoding else None,
        )

    async def _big(self, request: Request) -> Response:
        """`/big?mb=n`: n MiB, streamed without a Content-Length."""
        await self.record(request)
        total = int(float(request.query_params.get("mb", "1")) * MIB)

        async def chunks() -> AsyncIterator[bytes]:
            chunk = b"x" * (64 * 1024)
            sent = 0
            while sent < total:
                part = chunk[: total - sent]
                sent += len(part)
                yield part

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    async def _flaky(self, request: Request) -> Response:
        """`/flaky/{key}?failures=n`: 503 for the first n calls per key, then 200."""
        await self.record(request)
        key: str = request.path_params["key"]
        failures = int(request.query_params.get("failures", "1"))
        calls = self._flaky_calls[key] = self._flaky_calls.get(key, 0) + 1
        if calls <= failures:
            return PlainTextResponse(f"failing call {calls} of {failures}", 503)
        return JSONResponse({"key": key, "calls": calls})

    async def _stall(self, request: Request) -> Response:
        """`/stall/{key}?seconds=x`: the first call per key answers after x seconds (or
        when the client leaves), later calls at once: a call cut off, then sent again."""
        recorded = await self.record(request)
        calls = sum(r.path == recorded.path for r in self.requests)
        if calls == 1:
            seconds = float(request.query_params.get("seconds", "60"))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    while (await request.receive())["type"] != "http.disconnect":
                        pass
                    self.abandoned.append(request.url.path)
                    return Response(status_code=499)
        return JSONResponse({"key": request.path_params["key"], "calls": calls})

    async def _redirect(self, request: Request) -> Response:
        await self.record(request)
        return RedirectResponse(request.query_params.get("to", "/echo"), status_code=302)

    async def _loop(self, request: Request) -> Response:
        """Redirects to itself, for ever."""
        await self.record(request)
        return RedirectResponse("/loop", status_code=302)


@dataclass(frozen=True)
class _Reply:
    status: int
    body: str
    content_type: str = "application/json"


class LlmServer(RecordingServer):
    """An OpenAI-compatible chat completion endpoint under `{url}/v1`.

    By default it answers with the last user message; `reply()` queues answers to give
    instead, `fail_next()` an error status, `answer_next_raw()` any body at all.
    """

    def __init__(self) -> None:
        super().__init__()
        self._queue: deque[_Reply | tuple[str, str]] = deque()
        self._api_key: str | None = None

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def reset(self) -> None:
        super().reset()
        self._queue.clear()
        self._api_key = None

    def require_api_key(self, key: str) -> None:
        """Answer 401 to any request without `Authorization: Bearer <key>`."""
        self._api_key = key

    def reply(self, *contents: str, finish_reason: str = "stop") -> None:
        self._queue.extend((content, finish_reason) for content in contents)

    def fail_next(self, status: int, message: str = "the fake says no") -> None:
        error = {"error": {"message": message, "type": "test_error", "code": status}}
        self._queue.append(_Reply(status, json.dumps(error)))

    def answer_next_raw(
        self, body: str, *, status: int = 200, content_type: str = "application/json"
    ) -> None:
        self._queue.append(_Reply(status, body, content_type))

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/v1/chat/completions", self._completions, methods=["POST"])]
        )

    async def _completions(self, request: Request) -> Response:
        recorded = await self.record(request)
        if self._api_key is not None and recorded.headers.get("authorization") != (
            f"Bearer {self._api_key}"
        ):
            error = {"message": "Incorrect API key provided", "code": "invalid_api_key"}
            return JSONResponse({"error": error}, 401)
        payload = recorded.json or {}
        messages: list[dict[str, Any]] = payload.get("messages", [])
        reply = self._queue.popleft() if self._queue else None
        if isinstance(reply, _Reply):
            return Response(reply.body, reply.status, media_type=reply.content_type)
        if reply is None:
            users = [m for m in messages if m.get("role") == "user"]
            content, finish_reason = (users[-1]["content"] if users else ""), "stop"
        else:
            content, finish_reason = reply
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = len(content.split())
        return JSONResponse(
            {
                "id": f"chatcmpl-test-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": f"{payload.get('model', 'unknown')}-fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )


class AgentServer(RecordingServer):
    """Agents at `POST /agents/{name}`, steered by their input.

    The default answer is `{"echo": input, "agent": name}`. An input object with
    `"async": true` gets a 202; with `"status": n` that status; with `"text": "..."` that
    text as text/plain.
    """

    def url_for(self, name: str) -> str:
        return f"{self.url}/agents/{name}"

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/agents/{name}", self._agent, methods=["POST"])])

    async def _agent(self, request: Request) -> Response:
        recorded = await self.record(request)
        name: str = request.path_params["name"]
        payload = recorded.json or {}
        agent_input = payload.get("input")
        if isinstance(agent_input, dict):
            if isinstance(agent_input.get("status"), int):
                return JSONResponse({"error": f"agent {name} failed"}, agent_input["status"])
            if isinstance(agent_input.get("text"), str):
                return PlainTextResponse(agent_input["text"])
            if agent_input.get("async") is True:
                task = {"accepted": True, "agent": name, "task": f"task-{len(self.requests)}"}
                return JSONResponse(task, 202)
        return JSONResponse({"echo": agent_input, "agent": name})


class JwksServer(RecordingServer):
    """An identity provider's key set at `{url}/jwks.json`; tests swap the keys in it."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[dict[str, Any]] = []

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks.json"

    def reset(self) -> None:
        super().reset()
        self.keys = []

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/jwks.json", self._jwks, methods=["GET"])])

    async def _jwks(self, request: Request) -> Response:
        await self.record(request)
        return JSONResponse({"keys": self.keys})


class _ServerThread:
    """uvicorn serving one app on a port of its own, in a daemon thread."""

    def __init__(self, app: Starlette) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Bound before the thread starts, so the URL is known and no other process races us.
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            app,
            loop="asyncio",
            http="h11",
            ws="none",
            lifespan="off",
            # Leave the test process's logging configuration alone.
            log_config=None,
            access_log=False,
            # A `/slow` call a client gave up on must not hold up the end of the session.
            timeout_graceful_shutdown=1,
            # Clients keep idle connections up to 5 s (the steps' aiohttp, httpx): a server
            # closing them as they are reused fails the request unanswered.
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"test server at {self.url} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


# One running instance of each server per test session, however many modules import the
# fixtures (each import makes its own fixture definition, so a session scope alone would
# start a server per module).
_running: dict[str, RecordingServer] = {}


ServerT = TypeVar("ServerT", bound=RecordingServer)


def _shared(request: pytest.FixtureRequest, name: str, make: Callable[[], ServerT]) -> ServerT:
    if name not in _running:
        started = make()
        thread = _ServerThread(started.app())
        thread.start()
        started.url = thread.url
        _running[name] = started

        def stop() -> None:
            thread.stop()
            del _running[name]

        request.config.add_cleanup(stop)
    server = cast("ServerT", _running[name])
    server.reset()
    return server


@pytest.fixture
def echo_server(request: pytest.FixtureRequest) -> EchoServer:
    return _shared(request, "echo", EchoServer)


@pytest.fixture
def llm_server(request: pytest.FixtureRequest) -> LlmServer:
    return _shared(request, "llm", LlmServer)


@pytest.fixture
def agent_server(request: pytest.FixtureRequest) -> AgentServer:
    return _shared(request, "agent", AgentServer)


@pytest.fixture
def jwks_server(request: pytest.FixtureRequest) -> JwksServer:
    return _shared(request, "jwks", JwksServer)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A URL on a port that is bound but never listens: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Holding the bound port keeps any other process from listening on it meanwhile.
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


LOCAL = EgressPolicy.parse(["127.0.0.0/8", "::1"])


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes a fifth of a second; one context serves every client.
    return ssl.create_default_context()


@pytest.fixture
async def http_client() -> AsyncIterator[aiohttp.ClientSession]:
    """The shared client a worker hands its steps, allowed to reach this machine's servers."""
    async with step_session(LOCAL, _tls_context()) as client:
        yield client


def step_context(
    services: EngineServices,
    *,
    run_id: str = "run-1",
    step_id: str = "step-1",
    attempt: int = 1,
) -> StepContext:
    """The context the engine would give one attempt of a step, calling these servers."""
    return StepContext(
        run_id=run_id,
        step_id=step_id,
        attempt=attempt,
        idempotency_key=f"{run_id}:{step_id}:{attempt}",
        now=datetime.now(UTC),
        variables={},
        saved={},
        services=services,
        log=lambda level, message: None,
    )
