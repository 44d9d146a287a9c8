"""`WS /ws/tasks/{task_id}`: the document's events of every run of one task. Its
`/ws/runs/{id}` and `/ws/stream` are towpath's own paths, which speak the document's
events beside towpath's as its client connects, or alone with `?events=tasks`
(`app.state.feed_adapter`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, WebSocket

from towpath.api.profiles.tasks.events import TaskEvents, teller_of
from towpath.api.routes.streams import serve_socket
from towpath.storage.tasks import get_task

if TYPE_CHECKING:
    from towpath.api.socket_auth import SocketCaller
    from towpath.events.feeds import Feed
    from towpath.events.streams import Streams

router = APIRouter()


@router.websocket("/ws/tasks/{task_id}")
async def watch_task(websocket: WebSocket, task_id: str) -> None:
    db = websocket.app.state.db

    async def task_feed(streams: Streams, caller: SocketCaller) -> Feed:
        who = caller.principal
        async with db.read() as session:
            await get_task(session, who.workspace_id, task_id)
        feed = await streams.workflow_feed(
            task_id, who.workspace_id, caller.expires_at, who, every_version=True
        )
        return TaskEvents(feed, teller_of(websocket.app.state), only_tasks=True)

    await serve_socket(websocket, task_feed)
