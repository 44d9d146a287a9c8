"""The live streams over WebSocket, resumed by themselves after a lost connection.

A run's stream reconnects with `after` = the last seq it handed out, so its events come
each once and in order however often the connection drops; the inbox's stream starts
again from a fresh snapshot. A stream that the server ends for good (the run ended:
1000) stops; one it refuses (no such run, no access) raises `TowpathError` with the
close code as its status."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from towpath.client.call import _part
from towpath.client.errors import TowpathError
from towpath.client.messages import (
    Event,
    InboxMessage,
    RunMessage,
    Snapshot,
    inbox_message,
    run_message,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Mapping

RUN_ENDED = 1000
LOST = 1006
# Close codes after which reconnecting cannot help (docs/events.md, "Close codes").
REFUSALS = {
    1008: "CREDENTIAL_EXPIRED",
    4400: "INVALID_REQUEST",
    4401: "UNAUTHENTICATED",
    4403: "FORBIDDEN",
    4404: "NOT_FOUND",
}
RUN_TYPES = frozenset({"snapshot", "event", "resync"})
INBOX_TYPES = frozenset({"snapshot", "added", "changed", "removed"})


@dataclass(frozen=True)
class Reconnecting:
    """How a stream waits between attempts, and for how long it keeps trying."""

    first_delay: float = 0.1
    max_delay: float = 5.0
    give_up_after: float = 120.0


@dataclass(frozen=True)
class _Closed:
    code: int
    reason: str


async def _texts(
    url: str, headers: Mapping[str, str], open_timeout: float
) -> AsyncGenerator[str | _Closed, None]:
    """The text messages of one connection, then how it closed."""
    try:
        async with connect(
            url,
            additional_headers=dict(headers),
            open_timeout=open_timeout,
            max_size=None,
            proxy=None,
        ) as socket:
            async for text in socket:
                yield text if isinstance(text, str) else text.decode()
            yield _Closed(socket.close_code or LOST, socket.close_reason or "")
    except ConnectionClosed as closed:
        frame = closed.rcvd
        yield _Closed(frame.code, frame.reason) if frame else _Closed(LOST, "connection lost")
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as error:
        yield _Closed(LOST, f"{type(error).__name__}: {error}")


async def _messages(
    url: Callable[[], str],
    headers: Mapping[str, str],
    kinds: frozenset[str],
    policy: Reconnecting,
    open_timeout: float,
) -> AsyncGenerator[dict[str, Any], None]:
    """The messages of `kinds`, over as many connections as it takes (`url()` is asked
    again for each), until the server ends the stream."""
    delay = policy.first_delay
    failing_since: float | None = None
    while True:
        closed = _Closed(LOST, "")
        async with aclosing(_texts(url(), headers, open_timeout)) as texts:
            async for text in texts:
                if isinstance(text, _Closed):
                    closed = text
                    continue
                data = json.loads(text)
                if isinstance(data, dict) and data.get("type") in kinds:
                    delay, failing_since = policy.first_delay, None
                    yield data
        if closed.code == RUN_ENDED:
            return
        if closed.code in REFUSALS:
            reason = closed.reason or "the server refused the stream"
            raise TowpathError(closed.code, REFUSALS[closed.code], reason)
        failing_since = failing_since or time.monotonic()
        if time.monotonic() - failing_since > policy.give_up_after:
            raise TowpathError(closed.code, "STREAM_LOST", closed.reason or "connection lost")
        await asyncio.sleep(delay)
        delay = min(delay * 2, policy.max_delay)


async def run_messages(
    base: str,
    headers: Mapping[str, str],
    run_id: str,
    after: int | None,
    policy: Reconnecting,
    open_timeout: float,
) -> AsyncGenerator[RunMessage, None]:
    """A snapshot (none when `after` is given), then each event of the run once, in
    order, until the run ends."""
    last = after

    def url() -> str:
        query = f"?after={last}" if last is not None else ""
        return f"{base}/ws/runs/{_part(run_id)}{query}"

    async with aclosing(_messages(url, headers, RUN_TYPES, policy, open_timeout)) as found:
        async for data in found:
            message = run_message.validate_python(data)
            if isinstance(message, Event):
                if last is not None and message.seq <= last:
                    continue
                last = message.seq
            elif isinstance(message, Snapshot):
                last = message.seq
            yield message


async def inbox_messages(
    base: str, headers: Mapping[str, str], policy: Reconnecting, open_timeout: float
) -> AsyncGenerator[InboxMessage, None]:
    """The caller's inbox: a snapshot, then its changes; after a lost connection, a fresh
    snapshot that replaces what the caller held."""
    async with aclosing(
        _messages(lambda: f"{base}/ws/inbox", headers, INBOX_TYPES, policy, open_timeout)
    ) as found:
        async for data in found:
            yield inbox_message.validate_python(data)
