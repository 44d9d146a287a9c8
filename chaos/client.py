"""An API client that outlasts restarts: requests go round the API processes, and a
request refused for want of the database (a 5xx, a dropped connection) is sent again.
A POST is only sent again with the same `X-Idempotency-Key`, so it never acts twice."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from typing import Any

import httpx

API = "/api/v1"


class Unavailable(Exception):
    pass


class Client:
    def __init__(self, bases: list[str], key: str, patience: float = 120.0) -> None:
        self.bases = itertools.cycle(bases)
        self.patience = patience
        # Answers of 500 and up, by status, each sent again: 503 while the database is
        # away is expected; a 500 is an error of towpath's.
        self.server_errors: Counter[int] = Counter()
        self.http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
            limits=httpx.Limits(max_connections=64),
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        key: str | None = None,
        base: str | None = None,
    ) -> httpx.Response:
        """The first answer below 500 (409 `in progress` of a key is waited out)."""
        headers = {}
        if method != "GET":
            headers["X-Idempotency-Key"] = key or uuid.uuid4().hex
        deadline = time.monotonic() + self.patience
        while True:
            try:
                answer = await self.http.request(
                    method, f"{base or next(self.bases)}{API}{path}", json=json, headers=headers
                )
                if answer.status_code < 500 and not _in_progress(answer):
                    return answer
                if answer.status_code >= 500:
                    self.server_errors[answer.status_code] += 1
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise Unavailable(f"{method} {path}")
            await asyncio.sleep(0.2)

    async def get(self, path: str) -> Any:
        answer = await self.request("GET", path)
        answer.raise_for_status()
        return answer.json()

    async def all_pages(self, path: str) -> list[Any]:
        found: list[Any] = []
        page = 1
        joiner = "&" if "?" in path else "?"
        while True:
            got = await self.get(f"{path}{joiner}per_page=100&page={page}")
            found += got
            if len(got) < 100:
                return found
            page += 1

    async def publish(self, name: str, definition: dict[str, Any]) -> str:
        created = await self.request(
            "POST", "/workflows", json={"name": name, "definition": definition}
        )
        created.raise_for_status()
        workflow_id: str = created.json()["id"]
        (await self.request("POST", f"/workflows/{workflow_id}/publish")).raise_for_status()
        return workflow_id


def _in_progress(answer: httpx.Response) -> bool:
    return answer.status_code == 409 and "IDEMPOTENCY_KEY_IN_FLIGHT" in answer.text
