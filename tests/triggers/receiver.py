"""A webhook receiver for outgoing deliveries, told to fail and then to recover, and the
helpers the outbox tests share: a subscription, a signature check, a clock moved by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from tests.runs import API
from tests.servers import RecordedRequest, RecordingServer, _shared

if TYPE_CHECKING:
    import httpx
    from starlette.requests import Request

SUBSCRIPTIONS = f"{API}/subscriptions"


@dataclass(frozen=True)
class Answered:
    request: RecordedRequest
    status: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Receiver(RecordingServer):
    """`POST /hooks/{name}`: records the delivery and answers `status` (200 until told
    otherwise), so a test can make it fail and then recover."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        self.answered: list[Answered] = []

    def reset(self) -> None:
        super().reset()
        self.status = 200
        self.answered.clear()

    def url_for(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hooks/{name}", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        recorded = await self.record(request)
        status = self.status
        self.answered.append(Answered(recorded, status))
        return Response(b"" if status < 300 else b"the receiver is down", status_code=status)

    def accepted(self, name: str) -> list[RecordedRequest]:
        """The deliveries to `/hooks/{name}` answered with a 2xx, in arrival order."""
        path = f"/hooks/{name}"
        return [a.request for a in list(self.answered) if a.ok and a.request.path == path]

    def refused(self, name: str) -> int:
        path = f"/hooks/{name}"
        return sum(1 for a in list(self.answered) if not a.ok and a.request.path == path)


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Receiver:
    return _shared(request, "webhook-receiver", Receiver)


def hook_name() -> str:
    return uuid.uuid4().hex[:12]


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does, as the README shows it: any `v1,` signature that matches."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, sig.removeprefix("v1,"))
        for sig in headers["webhook-signature"].split()
    )


async def subscribe(
    client: httpx.AsyncClient, url: str, event_types: list[str], **fields: Any
) -> dict[str, Any]:
    made = await client.post(SUBSCRIPTIONS, json={"url": url, "event_types": event_types, **fields})
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


async def deliveries_of(client: httpx.AsyncClient, subscription_id: str) -> list[dict[str, Any]]:
    found = await client.get(f"{SUBSCRIPTIONS}/{subscription_id}/deliveries?per_page=100")
    assert found.status_code == 200, found.text
    listed: list[dict[str, Any]] = found.json()
    return listed


def seqs_by_run(requests: list[RecordedRequest]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for request in requests:
        data = request.json["data"]
        found.setdefault(data["run_id"], []).append(data["seq"])
    return found


def _ahead() -> datetime:
    # A little ahead of the real time, so the events a test makes after taking the clock
    # (stamped with the real time) are already due by it.
    return datetime.now(UTC) + timedelta(seconds=10)


@dataclass
class HandClock:
    """Time that moves only when a test says so."""

    now: datetime = field(default_factory=_ahead)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
