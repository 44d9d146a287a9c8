"""Live event streams for a process: started and stopped with the application."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from towpath.events.feeds import LiveFeed, RunFeed
from towpath.events.hub import EventHub
from towpath.events.sends import SendWatch
from towpath.storage.streams import check_workflow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import datetime

    from fastapi import FastAPI

    from towpath.config import Settings
    from towpath.events.feeds import SnapshotText
    from towpath.events.settings import StreamSettings
    from towpath.services.runtime import Runtime


@dataclass(frozen=True)
class Streams:
    """What the stream endpoints open their feeds from (`app.state.streams`)."""

    hub: EventHub
    settings: StreamSettings
    sends: SendWatch
    # Browser origins allowed to open a socket, matched exactly.
    allowed_origins: tuple[str, ...]

    async def run_feed(
        self,
        run_id: str,
        workspace_id: str,
        after: int | None,
        render: SnapshotText,
        expires_at: datetime | None = None,
    ) -> RunFeed:
        feed = RunFeed(
            self.hub,
            run_id,
            workspace_id,
            render,
            self.settings.stream_heartbeat_seconds,
            expires_at,
        )
        await feed.open(after)
        return feed

    async def workflow_feed(
        self, workflow_id: str, workspace_id: str, expires_at: datetime | None = None
    ) -> LiveFeed:
        async with self.hub.db.read() as session:
            await check_workflow(session, workflow_id, workspace_id)
        return self._live("workflow", workflow_id, workspace_id, expires_at)

    def workspace_feed(self, workspace_id: str, expires_at: datetime | None = None) -> LiveFeed:
        return self._live("workspace", workspace_id, workspace_id, expires_at)

    def _live(
        self, kind: str, key: str, workspace_id: str, expires_at: datetime | None
    ) -> LiveFeed:
        sub = self.hub.subscribe(kind, key, workspace_id)
        return LiveFeed(self.hub, sub, self.settings.stream_heartbeat_seconds, expires_at)


@asynccontextmanager
async def streams_running(
    app: FastAPI, runtime: Runtime, settings: Settings
) -> AsyncIterator[None]:
    hub = EventHub(runtime.db, settings.stream_queue_size)
    stop_listening = runtime.bus.listen(hub.accept)
    # Other processes' events arrive by NOTIFY; on SQLite one process writes them all.
    listener = None
    if not settings.is_sqlite:
        # Imported here: a process on the embedded default never loads the PostgreSQL driver.
        from towpath.events.listener import NotificationListener

        listener = NotificationListener(
            settings.database_url, hub, settings.stream_heartbeat_seconds
        )
    # Pings and credential expiries are noticed within a quarter heartbeat (a second at most).
    hub.start(min(settings.stream_heartbeat_seconds / 4, 1.0))
    app.state.event_hub = hub
    sends = SendWatch(settings.stream_send_timeout_seconds)
    app.state.streams = Streams(hub, settings, sends, tuple(settings.cors_origins))
    try:
        if listener is not None:
            await listener.start()
        yield
    finally:
        stop_listening()
        if listener is not None:
            await listener.stop()
        await hub.close()
        await sends.close()
