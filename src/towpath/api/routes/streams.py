"""Live run events: WebSockets under /ws, Server-Sent Events under /api/v1."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import APIRouter, Depends, Header, Query, Request, Response, WebSocket
from starlette.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect
from uvicorn.protocols.utils import ClientDisconnected

from towpath.api.schemas.runs import SEQ_MAX
from towpath.api.schemas.streams import snapshot_text
from towpath.api.socket_auth import (
    BEARER_PROTOCOL,
    SocketCaller,
    SocketRefused,
    credential_expiry,
    socket_caller,
    stream_reader,
)
from towpath.api.websocket_protocol import FRAMES
from towpath.auth.principal import Principal
from towpath.domain.errors import InvalidRequest, NotFound, Unauthenticated
from towpath.events import close_codes
from towpath.events.feeds import LEFT
from towpath.events.hub import READ_ERRORS
from towpath.events.messages import End, Frame
from towpath.storage.unavailable import database_away, database_busy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from starlette.types import Message, Receive, Scope, Send

    from towpath.events.feeds import Feed
    from towpath.events.sends import SendWatch
    from towpath.events.streams import Streams
    from towpath.observability.metrics import Metrics

    OpenFeed = Callable[[Streams, SocketCaller], Awaitable[Feed]]

log = logging.getLogger("towpath.api")

# Mounted at the root: /ws/...
socket_router = APIRouter(tags=["streams"])
# Mounted under /api/v1.
api_router = APIRouter(tags=["streams"])

SSE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/event-stream": {}}, "description": "The run's events as they happen."},
    204: {"description": "The run has ended and `Last-Event-ID` was its last event."},
}


@socket_router.websocket("/ws/runs/{run_id}")
async def watch_run(websocket: WebSocket, run_id: str) -> None:
    async def run_feed(streams: Streams, caller: SocketCaller) -> Feed:
        after = _after(websocket.query_params.get("after"))
        who = caller.principal
        feed = await streams.run_feed(
            run_id, who.workspace_id, after, snapshot_text, caller.expires_at, who
        )
        return adapted(websocket, feed)

    await serve_socket(websocket, run_feed)


@socket_router.websocket("/ws/workflows/{workflow_id}")
async def watch_workflow(websocket: WebSocket, workflow_id: str) -> None:
    """The runs of this version; with `?versions=all`, of every version of its workflow."""

    async def workflow_feed(streams: Streams, caller: SocketCaller) -> Feed:
        every = _every_version(websocket.query_params.get("versions"))
        who = caller.principal
        return await streams.workflow_feed(
            workflow_id, who.workspace_id, caller.expires_at, who, every_version=every
        )

    await serve_socket(websocket, workflow_feed)


@socket_router.websocket("/ws/stream")
async def watch_workspace(websocket: WebSocket) -> None:
    async def workspace_feed(streams: Streams, caller: SocketCaller) -> Feed:
        who = caller.principal
        feed = await streams.workspace_feed(who.workspace_id, caller.expires_at, who)
        return adapted(websocket, feed)

    await serve_socket(websocket, workspace_feed)


@api_router.get("/runs/{run_id}/stream", response_class=StreamingResponse, responses=SSE_RESPONSES)
async def stream_run(
    run_id: str,
    request: Request,
    caller: Annotated[Principal, Depends(stream_reader)],
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=SEQ_MAX)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=SEQ_MAX, description="Resume after this seq")
    ] = None,
) -> Response:
    """The run's events as Server-Sent Events: a `snapshot` event, then one event per run
    event (`id:` is its seq). With `Last-Event-ID` (or `after`), the missed events instead."""
    streams: Streams = request.app.state.streams
    resume = last_event_id if last_event_id is not None else after
    expires_at = credential_expiry(caller)
    feed = await streams.run_feed(
        run_id, caller.workspace_id, resume, snapshot_text, expires_at, caller
    )
    if feed.finished:
        feed.close()
        # 204 tells an EventSource to stop reconnecting.
        return Response(status_code=204)
    settings = streams.settings
    return EventStreamResponse(
        feed, settings.stream_retry_seconds, settings.stream_send_timeout_seconds
    )


# --- WebSockets ------------------------------------------------------------------------


def adapted(websocket: WebSocket, feed: Feed) -> Feed:
    """The feed as a seed profile whose document shares the path wants it told
    (`app.state.feed_adapter`, set when such a profile is on); towpath's own otherwise."""
    adapt = getattr(websocket.app.state, "feed_adapter", None)
    return feed if adapt is None else cast("Feed", adapt(websocket, feed))


async def serve_socket(websocket: WebSocket, open_feed: OpenFeed) -> None:
    streams: Streams = websocket.app.state.streams
    try:
        caller = await socket_caller(websocket)
        feed = await open_feed(streams, caller)
    except SocketRefused as refused:
        await _refuse(websocket, refused.code, refused.reason)
        return
    except Unauthenticated as ended:
        # The caller's access ended while the stream opened.
        await _refuse(websocket, close_codes.UNAUTHENTICATED, ended.message)
        return
    except NotFound as missing:
        await _refuse(websocket, close_codes.NOT_FOUND, missing.message)
        return
    except InvalidRequest as invalid:
        await _refuse(websocket, close_codes.INVALID_REQUEST, invalid.message)
        return
    except READ_ERRORS as error:
        # The database is away, or every connection of the pool stayed busy: the client
        # may well be served if it comes back in a moment (1013), as a request gets a 503.
        if database_away(error) or database_busy(error):
            log.warning("a live stream could not open: %s", error)
            await _refuse(websocket, close_codes.TRY_AGAIN_LATER, "the server is busy; try again")
        else:
            log.exception("a live stream could not read from the database")
            await _refuse(websocket, close_codes.SERVER_ERROR, "could not read the stream")
        return
    metrics: Metrics = websocket.app.state.metrics
    try:
        await websocket.accept(subprotocol=caller.subprotocol)
        with metrics.socket_open("websocket"):
            await _pump(websocket, feed, streams.sends)
    except (WebSocketDisconnect, ClientDisconnected):
        # Gone before its accept reached it (ClientDisconnected is an OSError, which the
        # read errors below would take for the database's).
        return
    except READ_ERRORS:
        log.exception("a live stream could not read from the database")
        await _close(websocket, close_codes.SERVER_ERROR, "could not read events", 5.0)
    finally:
        feed.close()


async def _pump(websocket: WebSocket, feed: Feed, watch: SendWatch) -> None:
    # An endpoint always runs in a task of its own.
    sender = cast("asyncio.Task[None]", asyncio.current_task())
    listening = asyncio.create_task(_until_disconnected(websocket, feed))
    # Under `towpath serve`, frames go out encoded once for all clients, every frame
    # ready at once in one write; elsewhere, as ASGI messages.
    frames = websocket.scope.get("extensions", {}).get(FRAMES)
    write: Callable[[bytes], Awaitable[None]] | None = frames["send"] if frames else None
    if frames is not None:
        feed.write_directly(frames["write_now"])
    try:
        item = await feed.next()
        while True:
            if item is LEFT:
                return
            if isinstance(item, End):
                # Every other stream sends what it has first: closing a thousand sockets
                # one by one must not hold up the last event on its way to the others.
                await asyncio.sleep(0)
                await _close(websocket, item.code, item.reason, watch.timeout)
                return
            watch.begin(sender)
            following: Frame | End | None = None
            if write is None:
                await websocket.send(item.message)
            else:
                batch = [item.wire]
                while following is None and feed.ready():
                    more = await feed.next()
                    if isinstance(more, Frame):
                        batch.append(more.wire)
                    else:
                        following = more
                await write(b"".join(batch))
            watch.end(sender)
            item = following if following is not None else await feed.next()
    except asyncio.CancelledError:
        if not watch.stalled(sender):
            raise
        sender.uncancel()
        log.info("dropped a stream client that stopped reading")
    except (WebSocketDisconnect, ClientDisconnected):
        pass
    finally:
        watch.end(sender)
        listening.cancel()


async def _until_disconnected(websocket: WebSocket, feed: Feed) -> None:
    # What a client sends is not read for meaning; a close frees its subscription now.
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
    feed.sub.leave()


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Refusals are decided before the handshake completes, and told by a close code
    after it: a browser is shown no HTTP status of a refused handshake."""
    offered = BEARER_PROTOCOL in websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=BEARER_PROTOCOL if offered else None)
    await _close(websocket, code, reason, 5.0)


async def _close(websocket: WebSocket, code: int, reason: str, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            # A close reason is at most 123 bytes.
            await websocket.close(code, reason.encode()[:123].decode(errors="ignore"))
    except (TimeoutError, WebSocketDisconnect, RuntimeError):
        pass


def _every_version(value: str | None) -> bool:
    if value not in (None, "one", "all"):
        raise InvalidRequest("versions must be one or all", details={"versions": value})
    return value == "all"


def _after(value: str | None) -> int | None:
    if value is None:
        return None
    # isdigit alone takes superscripts and other scripts' digits, which int() refuses or reads.
    if not (value.isascii() and value.isdigit()) or int(value) > SEQ_MAX:
        raise InvalidRequest("after must be a non-negative integer", details={"after": value})
    return int(value)


# --- Server-Sent Events ----------------------------------------------------------------


def end_event(end: End) -> str:
    """Why a stream ends before its run does: the code a socket would close with, and the
    reason (an `end` event, the last of the response)."""
    data = json.dumps({"type": "end", "code": end.code, "reason": end.reason})
    return f"event: end\ndata: {data}\n\n"


class EventStreamResponse(StreamingResponse):
    """A feed as Server-Sent Events. The client's disconnect ends it at once (whatever
    ASGI version the server speaks), and the feed's subscription goes with it."""

    def __init__(self, feed: Feed, retry_seconds: float, send_timeout: float) -> None:
        self.feed = feed
        self.send_timeout = send_timeout
        super().__init__(
            self._body(retry_seconds),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _body(self, retry_seconds: float) -> AsyncIterator[str]:
        yield f"retry: {round(retry_seconds * 1000)}\n\n"
        async for frame in self.feed.frames():
            if isinstance(frame, End):
                if frame.code != close_codes.RUN_ENDED:
                    yield end_event(frame)
                return
            yield ": ping\n\n" if frame.name == "ping" else frame.sse()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_in_time(message: Message) -> None:
            async with asyncio.timeout(self.send_timeout):
                await send(message)

        streaming = asyncio.create_task(self.stream_response(send_in_time))
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        metrics: Metrics = scope["app"].state.metrics
        try:
            with metrics.socket_open("sse"):
                await asyncio.wait([streaming, listening], return_when=asyncio.FIRST_COMPLETED)
            if streaming.done() and not streaming.cancelled():
                error = streaming.exception()
                if error is not None and not isinstance(error, OSError):
                    raise error
        finally:
            for task in (streaming, listening):
                task.cancel()
            await asyncio.gather(streaming, listening, return_exceptions=True)
            self.feed.close()
