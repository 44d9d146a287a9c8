"""What the stream endpoints open their live feeds from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from towpath.domain.errors import Unauthenticated
from towpath.events.feeds import LiveFeed, RunFeed
from towpath.events.inbox import InboxFeed
from towpath.storage.streams import check_workflow

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.events.access import GrantCheck, Reader
    from towpath.events.feeds import Feed, SnapshotText
    from towpath.events.hub import EventHub
    from towpath.events.inbox import InboxLookup
    from towpath.events.sends import SendWatch
    from towpath.events.settings import StreamSettings


@dataclass(frozen=True)
class Streams:
    """What the stream endpoints open their feeds from (`app.state.streams`).

    A feed is opened for a reader (the caller): subscribed first, then the reader's
    access is confirmed once more, so access that ends while a stream opens either
    refuses it here or reaches its subscription and ends it there."""

    hub: EventHub
    settings: StreamSettings
    sends: SendWatch
    # Browser origins allowed to open a socket, matched exactly.
    allowed_origins: tuple[str, ...]
    # Why a reader's access (of a workspace) ended, or None while it holds.
    grant_ended: GrantCheck

    async def run_feed(
        self,
        run_id: str,
        workspace_id: str,
        after: int | None,
        render: SnapshotText,
        expires_at: datetime | None = None,
        reader: Reader | None = None,
    ) -> RunFeed:
        feed = RunFeed(
            self.hub,
            run_id,
            workspace_id,
            render,
            self.settings.stream_heartbeat_seconds,
            expires_at,
            reader,
        )
        await self._confirm(feed, workspace_id, reader)
        await feed.open(after)
        return feed

    async def workflow_feed(
        self,
        workflow_id: str,
        workspace_id: str,
        expires_at: datetime | None = None,
        reader: Reader | None = None,
        *,
        every_version: bool = False,
    ) -> LiveFeed:
        """The live events of the runs of one version, or with `every_version` of every
        version of the workflow `workflow_id` is one of."""
        if every_version:
            # The lineage never changes: read it, then watch it.
            async with self.hub.db.read() as session:
                lineage_id = await check_workflow(session, workflow_id, workspace_id)
            return await self._live("lineage", lineage_id, workspace_id, expires_at, reader)
        feed = await self._live("workflow", workflow_id, workspace_id, expires_at, reader)
        try:
            async with self.hub.db.read() as session:
                await check_workflow(session, workflow_id, workspace_id)
        except BaseException:
            feed.close()
            raise
        return feed

    async def workspace_feed(
        self, workspace_id: str, expires_at: datetime | None = None, reader: Reader | None = None
    ) -> LiveFeed:
        return await self._live("workspace", workspace_id, workspace_id, expires_at, reader)

    async def inbox_feed(
        self,
        workspace_id: str,
        lookup: InboxLookup,
        expires_at: datetime | None = None,
        reader: Reader | None = None,
    ) -> InboxFeed:
        """A reader's inbox as it is, then its changes (see `events.inbox`)."""
        sub = self.hub.subscribe("workspace", workspace_id, workspace_id, reader)
        heartbeat = self.settings.stream_heartbeat_seconds
        feed = InboxFeed(self.hub, sub, heartbeat, expires_at, lookup)
        await self._confirm(feed, workspace_id, reader)
        try:
            await feed.open()
        except BaseException:
            feed.close()
            raise
        return feed

    async def _live(
        self,
        kind: str,
        key: str,
        workspace_id: str,
        expires_at: datetime | None,
        reader: Reader | None,
    ) -> LiveFeed:
        sub = self.hub.subscribe(kind, key, workspace_id, reader)
        feed = LiveFeed(self.hub, sub, self.settings.stream_heartbeat_seconds, expires_at)
        await self._confirm(feed, workspace_id, reader)
        return feed

    async def _confirm(self, feed: Feed, workspace_id: str, reader: Reader | None) -> None:
        """Raises Unauthenticated (and frees the feed) when the reader's access ended."""
        if reader is None or reader.grant is None:
            return
        try:
            ended = await self.grant_ended(workspace_id, reader.grant)
        except BaseException:
            feed.close()
            raise
        if ended is not None:
            feed.close()
            raise Unauthenticated(ended)
