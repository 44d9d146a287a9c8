"""A client of document 004 written from the document alone: its paths, its bodies, its
event names. It knows nothing of towpath but the credential header it sends."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import connect

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from websockets.asyncio.client import ClientConnection

Json = dict[str, Any]

# The document's nine event types.
EVENT_TYPES = frozenset(
    {
        "analysis_start",
        "plan_ready",
        "approval_required",
        "approved",
        "rejected",
        "progress",
        "completion",
        "failure",
        "cancelled",
    }
)
FINAL = frozenset({"completion", "failure", "cancelled"})


class TasksClient:
    def __init__(self, http: httpx.AsyncClient, ws_base: str, headers: dict[str, str]) -> None:
        self.http = http
        self.ws_base = ws_base
        self.headers = headers

    async def _json(self, method: str, path: str, status: int, **options: Any) -> Json:
        response = await self.http.request(method, path, **options)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        found: Json = response.json()
        return found

    async def create_task(self, name: str, description: str, max_rounds: int) -> Json:
        body = {"name": name, "description": description, "max_rounds": max_rounds}
        return await self._json("POST", "/api/tasks/", 201, json=body)

    async def list_tasks(self, **params: Any) -> Json:
        return await self._json("GET", "/api/tasks/", 200, params=params)

    async def get_task(self, task_id: str) -> Json:
        return await self._json("GET", f"/api/tasks/{task_id}", 200)

    async def update_task(self, task_id: str, **fields: Any) -> Json:
        return await self._json("PATCH", f"/api/tasks/{task_id}", 200, json=fields)

    async def create_run(self, task_id: str) -> Json:
        return await self._json("POST", "/api/runs/", 201, json={"task_id": task_id})

    async def list_runs(self, **params: Any) -> Json:
        return await self._json("GET", "/api/runs/", 200, params=params)

    async def get_run(self, run_id: str) -> Json:
        return await self._json("GET", f"/api/runs/{run_id}", 200)

    async def update_run(self, run_id: str, status: str) -> Json:
        return await self._json("PATCH", f"/api/runs/{run_id}", 200, json={"status": status})

    async def approve(self, run_id: str, approved: bool, feedback: str) -> Json:
        body = {"approved": approved, "feedback": feedback}
        return await self._json("POST", f"/api/runs/{run_id}/approve", 200, json=body)

    async def logs(self, run_id: str) -> Json:
        return await self._json("GET", f"/api/runs/{run_id}/logs", 200)

    async def metrics(self, **params: Any) -> Json:
        return await self._json("GET", "/api/metrics/", 200, params=params)

    async def metric(self, metric_id: str) -> Json:
        return await self._json("GET", f"/api/metrics/{metric_id}", 200)

    async def task_summary(self, task_id: str) -> Json:
        return await self._json("GET", f"/api/metrics/task/{task_id}/summary", 200)

    async def run_summary(self, run_id: str) -> Json:
        return await self._json("GET", f"/api/metrics/run/{run_id}/summary", 200)

    @asynccontextmanager
    async def events(self, path: str) -> AsyncIterator[EventStream]:
        """`path` is `/ws/tasks/{id}`, `/ws/runs/{id}` or `/ws/stream`, as the document
        names them, with no query."""
        async with connect(
            f"{self.ws_base}{path}", additional_headers=self.headers, open_timeout=10
        ) as ws:
            yield EventStream(ws)


class EventStream:
    """The document's events as they come. Its heartbeats are passed over, and so are
    messages whose `type` is not the document's (`task_event`), as the document's client
    does with what it does not know; a message of that type with a name the document does
    not list is a failure."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[Json] = []
        self.others: list[Json] = []

    async def next_event(self, also: frozenset[str] = frozenset(), seconds: float = 15.0) -> Json:
        """The next of the document's events (or of the custom names in `also`)."""
        while True:
            event: Json = json.loads(await asyncio.wait_for(self.ws.recv(), seconds))
            if event.get("type") != "task_event":
                continue
            if event.get("event_type") in EVENT_TYPES | also:
                self.seen.append(event)
                return event
            self.others.append(event)

    async def until(self, *event_types: str, seconds: float = 15.0) -> Json:
        """Events up to the first of `event_types` (returned)."""
        while True:
            event = await self.next_event(frozenset(event_types), seconds)
            if event["event_type"] in event_types:
                return event

    def types(self) -> list[str]:
        return [event["event_type"] for event in self.seen]
