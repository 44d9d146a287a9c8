"""A client of the execution API written only from its document (the founding document
002): its paths, its request and response models, its WebSocket's `ExecutionEvent`s and
its error format. Nothing here knows towpath's own API."""

from __future__ import annotations

import asyncio
import contextlib
import json
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from websockets.asyncio.client import ClientConnection

V1 = "/api/v1"


class StartWorkflowRequest(BaseModel):
    project_id: str
    initial_context: dict[str, Any] | None = None


class ExecutionResponse(BaseModel):
    execution_id: str
    workflow_id: str
    project_id: str
    status: str  # pending, running, waiting_acceptance, completed, failed
    current_step_id: str | None
    completed_steps: list[str]
    # The document names these types without their fields.
    pending_acceptance: dict[str, Any] | None
    pending_clarification: dict[str, Any] | None
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None


class AcceptanceRequest(BaseModel):
    accepted: bool
    comment: str | None = None


class ClarificationRequest(BaseModel):
    answers: dict[str, str]  # question_id -> answer


class ExecutionEvent(BaseModel):
    event_type: str  # step_started, step_completed, waiting_acceptance, etc.
    step_id: str | None
    timestamp: datetime
    data: dict[str, Any]


class ErrorResponse(BaseModel):
    error_code: str
    message: str
    details: dict[str, Any] | None = None
    request_id: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, error: ErrorResponse) -> None:
        super().__init__(f"{status} {error.error_code}: {error.message}")
        self.status = status
        self.error = error


class ExecutionsClient:
    def __init__(self, http: httpx.AsyncClient, ws_base: str, headers: dict[str, str]) -> None:
        self.http = http
        self.ws_base = ws_base
        self.headers = headers

    async def start(
        self, workflow_id: str, project_id: str, initial_context: dict[str, Any] | None = None
    ) -> ExecutionResponse:
        body = StartWorkflowRequest(project_id=project_id, initial_context=initial_context)
        path = f"{V1}/workflows/{workflow_id}/start"
        return ExecutionResponse.model_validate(await self._send("POST", path, body))

    async def get(self, execution_id: str) -> ExecutionResponse:
        found = await self._send("GET", f"{V1}/executions/{execution_id}")
        return ExecutionResponse.model_validate(found)

    async def status(self, workflow_id: str, execution_id: str) -> ExecutionResponse:
        path = f"{V1}/workflows/{workflow_id}/executions/{execution_id}"
        return ExecutionResponse.model_validate(await self._send("GET", path))

    async def list(self, **filters: str) -> list[ExecutionResponse]:
        found = await self._send("GET", f"{V1}/executions", params=filters)
        return [ExecutionResponse.model_validate(item) for item in found]

    async def accept(
        self, execution_id: str, accepted: bool, comment: str | None = None
    ) -> ExecutionResponse:
        body = AcceptanceRequest(accepted=accepted, comment=comment)
        path = f"{V1}/executions/{execution_id}/acceptance"
        return ExecutionResponse.model_validate(await self._send("POST", path, body))

    async def clarify(self, execution_id: str, answers: dict[str, str]) -> ExecutionResponse:
        body = ClarificationRequest(answers=answers)
        path = f"{V1}/executions/{execution_id}/clarification"
        return ExecutionResponse.model_validate(await self._send("POST", path, body))

    async def resume(self, execution_id: str) -> ExecutionResponse:
        found = await self._send("POST", f"{V1}/executions/{execution_id}/resume")
        return ExecutionResponse.model_validate(found)

    async def cancel(self, execution_id: str) -> ExecutionResponse:
        found = await self._send("POST", f"{V1}/executions/{execution_id}/cancel")
        return ExecutionResponse.model_validate(found)

    @asynccontextmanager
    async def events(self, execution_id: str) -> AsyncIterator[EventStream]:
        url = f"{self.ws_base}{V1}/ws/executions/{execution_id}"
        async with connect(url, additional_headers=self.headers, open_timeout=10) as ws:
            yield EventStream(ws)

    async def _send(
        self,
        method: str,
        path: str,
        body: BaseModel | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        payload = body.model_dump(mode="json") if body is not None else None
        response = await self.http.request(method, path, json=payload, params=params)
        if response.status_code >= 400:
            raise ApiError(response.status_code, ErrorResponse.model_validate(response.json()))
        return response.json()


class EventStream:
    """An execution's events as they come, until the server closes the stream."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[ExecutionEvent] = []

    async def until(self, event_type: str, seconds: float = 15.0) -> ExecutionEvent:
        """The next event of this type; every event before it is kept in `seen`."""
        while True:
            event = await self.next(seconds)
            if event.event_type == event_type:
                return event

    async def next(self, seconds: float = 15.0) -> ExecutionEvent:
        text = await asyncio.wait_for(self.ws.recv(), seconds)
        event = ExecutionEvent.model_validate(json.loads(text))
        self.seen.append(event)
        return event

    async def rest(self, seconds: float = 15.0) -> list[ExecutionEvent]:
        """Every event until the server closes the stream, whatever its close code."""
        async with asyncio.timeout(seconds):
            with contextlib.suppress(ConnectionClosedError):
                async for text in self.ws:
                    self.seen.append(ExecutionEvent.model_validate(json.loads(text)))
        return self.seen

    @property
    def types(self) -> list[str]:
        return [event.event_type for event in self.seen]
