"""A real local server playing several agents: fast, slow, flaky, accepting (202), and
their health endpoints (healthy, sick, slow)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.servers import RecordingServer, _shared

if TYPE_CHECKING:
    from starlette.requests import Request


class AgentFleet(RecordingServer):
    """`POST /agents/{name}`: `fast` echoes, `slow` answers after `input.sleep` seconds,
        `flaky` answers 503 to its first `input.failures` calls (any agent does, given
    `failures`), `accepting` answers 202.
        `GET /health/{name}`: `ok` 200, `sick` 503, `slow` after 3 seconds."""

    def url_for(self, name: str) -> str:
        return f"{self.url}/agents/{name}"

    def health_for(self, name: str) -> str:
        return f"{self.url}/health/{name}"

    def calls(self, name: str) -> int:
        return sum(1 for r in self.requests if r.path == f"/agents/{name}")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/agents/{name}", self._agent, methods=["POST"]),
                Route("/health/{name}", self._health, methods=["GET"]),
            ]
        )

    async def _agent(self, request: Request) -> Response:
        recorded = await self.record(request)
        name: str = request.path_params["name"]
        payload = recorded.json or {}
        given = payload.get("input")
        given = given if isinstance(given, dict) else {}
        if name == "slow":
            await asyncio.sleep(float(given.get("sleep", 2)))
        failures = int(given.get("failures", 1 if name == "flaky" else 0))
        if self.calls(name) <= failures:
            return JSONResponse({"error": "busy"}, 503)
        if name == "accepting":
            return JSONResponse({"task": f"task-{payload.get('attempt')}"}, 202)
        return JSONResponse({"echo": payload.get("input"), "agent": name})

    async def _health(self, request: Request) -> Response:
        await self.record(request)
        name: str = request.path_params["name"]
        if name == "slow":
            await asyncio.sleep(3)
        if name == "sick":
            return PlainTextResponse("down for maintenance", 503)
        return PlainTextResponse("ok")


@pytest.fixture
def agent_fleet(request: pytest.FixtureRequest) -> AgentFleet:
    return _shared(request, "agent_fleet", AgentFleet)
