"""Events committed by other processes, on PostgreSQL. One LISTEN connection per process;
each notification names a run and a seq, and the new rows of the runs watched here are
read, many runs in one query, and handed to the hub in the order they were committed.
The same connection hears of access that ended (`towpath_access`) and announces it."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy.engine import make_url

from towpath.events import close_codes
from towpath.events.access import CHANNEL as ACCESS_CHANNEL
from towpath.events.access import parse_notice
from towpath.events.hub import READ_ERRORS
from towpath.events.messages import End

if TYPE_CHECKING:
    from towpath.events.access import AccessNotices
    from towpath.events.bus import PublishedEvent
    from towpath.events.hub import EventHub

log = logging.getLogger("towpath.events")

# Written by the trigger of migration 0002: "<workspace_id> <workflow_id> <run_id> <seq>".
CHANNEL = "towpath_run_events"
# How the connection shows in pg_stat_activity.
APPLICATION_NAME = "towpath events"
CONNECT_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class NotificationListener:
    def __init__(
        self, url: str, hub: EventHub, keepalive_seconds: float, access: AccessNotices
    ) -> None:
        self._url = url
        self._hub = hub
        self._access = access
        self._keepalive = keepalive_seconds
        # Runs with new events, in the order first heard: (lowest, highest) seq heard.
        self._noticed: dict[str, tuple[int, int]] = {}
        self._wake = asyncio.Event()
        self._listening = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, within_seconds: float = 30.0) -> None:
        self._tasks = [
            asyncio.create_task(self._stay_connected()),
            asyncio.create_task(self._read_noticed()),
        ]
        try:
            async with asyncio.timeout(within_seconds):
                await self._listening.wait()
        except TimeoutError:
            await self.stop()
            raise RuntimeError("could not LISTEN for run events on PostgreSQL") from None

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            workspace_id, workflow_id, run_id, seq_text = payload.split(" ")
            seq = int(seq_text)
        except ValueError:
            log.warning("unexpected run event notification %r", payload)
            return
        if not self._hub.wants_notice(workspace_id, workflow_id, run_id):
            self._hub.forget(run_id)
            return
        self._notice(run_id, seq, seq)

    def _on_access(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        change = parse_notice(payload)
        if change is not None:
            self._access.announce(change)

    def _notice(self, run_id: str, low: int, high: int) -> None:
        seen = self._noticed.get(run_id)
        if seen is not None:
            low, high = min(low, seen[0]), max(high, seen[1])
        self._noticed[run_id] = (low, high)
        self._wake.set()

    # --- the connection ------------------------------------------------------------------

    async def _stay_connected(self) -> None:
        delay = 0.5
        first = True
        while True:
            try:
                conn = await asyncpg.connect(
                    **_connect_args(self._url),
                    timeout=10,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except CONNECT_ERRORS:
                log.warning("cannot connect to LISTEN for run events; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.5
            try:
                await conn.add_listener(CHANNEL, self._on_notification)
                await conn.add_listener(ACCESS_CHANNEL, self._on_access)
                if not first:
                    self._catch_up()
                first = False
                self._listening.set()
                await self._keep_alive(conn)
            except CONNECT_ERRORS:
                log.warning("lost the LISTEN connection for run events", exc_info=True)
            finally:
                conn.terminate()

    async def _keep_alive(self, conn: asyncpg.Connection) -> None:
        """A silent network failure shows only when the connection is used."""
        while not conn.is_closed():
            await asyncio.sleep(self._keepalive)
            await conn.fetchval("SELECT 1", timeout=self._keepalive)

    def _catch_up(self) -> None:
        """Notifications sent while disconnected are lost: read the watched runs again.
        A multi-run stream cannot know which runs it missed, so it is asked to reconnect;
        the access of the streams left open is confirmed again."""
        self._access.announce_missed()
        self._hub.end_all(
            End(close_codes.RECONNECT, "events may have been missed; reconnect"),
            multi_run_only=True,
        )
        for run_id, cursor in self._hub.catch_up_cursors().items():
            self._notice(run_id, cursor + 1, cursor + 1)

    # --- reading what was noticed --------------------------------------------------------

    async def _read_noticed(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # What this process committed itself reaches the hub through the bus at once;
            # give it that turn, and notifications arriving together one read.
            await asyncio.sleep(0)
            noticed, self._noticed = self._noticed, {}
            cursors: dict[str, int] = {}
            for run_id, (low, high) in noticed.items():
                last = self._hub.last_seq(run_id)
                if last is not None and high <= last:
                    continue
                cursors[run_id] = last if last is not None else low - 1
            if not cursors:
                continue
            try:
                rows = await self._hub.read_events(cursors)
            except READ_ERRORS:
                log.warning("could not read new run events; retrying", exc_info=True)
                for run_id, (low, high) in noticed.items():
                    self._notice(run_id, low, high)
                await asyncio.sleep(1.0)
                continue
            # Run by run, in the order their notifications came: the order of the commits.
            # All at once, so a stream of many runs is sent what was read in one write.
            by_run: dict[str, list[PublishedEvent]] = {run_id: [] for run_id in cursors}
            for event in rows:
                by_run[event.run_id].append(event)
            self._hub.accept_all([event for events in by_run.values() for event in events])


def _connect_args(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
    }
