"""A stream waiting for its run's next events is written them by the hub at once, the
events of one commit in one write, without its task waking; what is not simply the next
events (a client that cannot take them now, an expired credential, a run retried right
after its end) is left to the stream's task, in order."""

from __future__ import annotations

import asyncio
import gc
import weakref
from datetime import UTC, datetime, timedelta

from towpath.events import close_codes
from towpath.events.bus import PublishedEvent
from towpath.events.feeds import RUN_OVER, LiveFeed, RunFeed
from towpath.events.hub import EventHub
from towpath.events.messages import End, Frame

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def event(seq: int, kind: str = "step.completed") -> PublishedEvent:
    return PublishedEvent("ws", "run", "wf", seq, kind, None, {}, NOW)


class Client:
    """A socket's `write_now`: it takes frames while `open`."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.open = True

    def write_now(self, data: bytes) -> bool:
        if self.open:
            self.frames.append(data)
        return self.open


def waiting_run_feed(hub: EventHub, expires_at: datetime | None = None) -> RunFeed:
    # The snapshot a stream opens with (seq 0) is taken as sent: nothing here reads the database.
    return RunFeed(hub, "run", "ws", str, 60.0, expires_at)


def wire(seq: int, kind: str = "step.completed") -> bytes:
    """What a stream sends for the event, as the hub encodes it."""
    hub = EventHub(None, 10)  # type: ignore[arg-type]
    sub = hub.subscribe("run", "run", "ws")
    hub.accept(event(seq, kind))
    found = sub.pop()
    assert found is not None
    return found.frame.wire


async def watched(hub: EventHub) -> tuple[RunFeed, Client, asyncio.Task[Frame | End]]:
    """A run stream that sent its snapshot, waiting for the run's next event."""
    feed, client = waiting_run_feed(hub), Client()
    feed.write_directly(client.write_now)
    task = asyncio.create_task(feed.next())
    await settle()
    return feed, client, task


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_events_go_out_while_the_stream_sleeps() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed, client, task = await watched(hub)

    for seq in (1, 2, 3):
        hub.accept(event(seq))
    await settle()

    assert client.frames == [wire(1), wire(2), wire(3)]
    assert not task.done(), "the stream's task was woken for events already sent"
    assert (feed.cursor, feed.sub.cursor, feed.sub.pending) == (3, 3, 0)
    task.cancel()
    feed.close()


async def test_the_events_of_one_commit_go_out_in_one_write() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feeds = [waiting_run_feed(hub) for _ in range(3)]
    clients = [Client() for _ in feeds]
    for feed, client in zip(feeds, clients, strict=True):
        feed.write_directly(client.write_now)
    tasks = [asyncio.create_task(feed.next()) for feed in feeds]
    await settle()

    hub.accept_all([event(1), event(2), event(3)])
    await settle()

    assert [client.frames for client in clients] == [[wire(1) + wire(2) + wire(3)]] * 3
    assert not any(task.done() for task in tasks)
    assert [feed.cursor for feed in feeds] == [3, 3, 3]
    for task, feed in zip(tasks, feeds, strict=True):
        task.cancel()
        feed.close()


async def test_events_the_snapshot_holds_do_not_keep_it_waiting() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed = waiting_run_feed(hub)
    # Events 1 and 2 were published while the snapshot (which holds them) was read.
    hub.accept_all([event(1), event(2)])
    feed.cursor = 0
    feed._head.append(Frame("{}", "snapshot", 2))  # what `open` leaves
    snapshot = await feed.next()

    # What a stream checks before writing the snapshot with anything sent along with it.
    assert feed.ready() is False, "the snapshot would wait for the next event to go out"
    assert isinstance(snapshot, Frame)
    assert (snapshot.name, feed.cursor, feed.sub.pending) == ("snapshot", 2, 0)
    feed.close()


async def test_a_client_that_cannot_take_an_event_gets_it_from_its_task_in_order() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed, client, task = await watched(hub)

    hub.accept(event(1))
    client.open = False  # the client reads too slowly: its transport is paused
    hub.accept(event(2))
    client.open = True
    hub.accept(event(3))  # behind event 2, so it waits its turn too

    first = await task
    assert isinstance(first, Frame)
    assert client.frames == [wire(1)]
    assert [first.id, feed.cursor] == [2, 2]
    following = await feed.next()
    assert isinstance(following, Frame)
    assert following.id == 3
    feed.close()


async def test_a_write_that_fails_leaves_the_events_to_the_task() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed = waiting_run_feed(hub)

    def broken(data: bytes) -> bool:
        raise RuntimeError("the transport broke")

    feed.write_directly(broken)
    task = asyncio.create_task(feed.next())
    await settle()

    hub.accept_all([event(1)])  # raises nothing to the publisher

    sent = await task
    assert isinstance(sent, Frame)
    assert (sent.id, feed.cursor) == (1, 1)
    feed.close()


async def test_the_runs_end_goes_out_at_once_and_its_task_closes_the_stream() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed, client, task = await watched(hub)

    hub.accept_all([event(1), event(2, "run.completed")])

    assert await task == RUN_OVER
    assert client.frames == [wire(1) + wire(2, "run.completed")]
    feed.close()


async def test_a_run_retried_right_after_its_end_is_left_to_the_task() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed, client, task = await watched(hub)

    hub.accept_all([event(1, "run.failed"), event(2, "run.resumed")])

    ended = await task
    assert isinstance(ended, Frame)
    assert (ended.name, client.frames) == ("run.failed", [])
    # The run goes on: the stream is not closed after its first end.
    again = await feed.next()
    assert isinstance(again, Frame)
    assert again.name == "run.resumed"
    feed.close()


async def test_an_expired_credential_ends_the_stream_instead_of_sending() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed = waiting_run_feed(hub, expires_at=datetime.now(UTC) + timedelta(milliseconds=50))
    client = Client()
    feed.write_directly(client.write_now)
    task = asyncio.create_task(feed.next())
    await settle()
    await asyncio.sleep(0.1)

    hub.accept(event(1))

    ended = await task
    assert isinstance(ended, End)
    assert (ended.code, client.frames) == (close_codes.CREDENTIAL_EXPIRED, [])
    feed.close()


async def test_a_live_stream_sends_every_runs_events_as_they_come() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed, client = LiveFeed(hub, hub.subscribe("workspace", "ws", "ws"), 60.0, None), Client()
    feed.write_directly(client.write_now)
    task = asyncio.create_task(feed.next())
    await settle()

    hub.accept(event(1))
    hub.accept(event(2, "run.completed"))
    await settle()

    assert client.frames == [wire(1), wire(2, "run.completed")]
    assert not task.done()
    task.cancel()
    feed.close()


async def test_a_closed_stream_is_freed_without_the_collector() -> None:
    hub = EventHub(None, 100)  # type: ignore[arg-type]
    feed = waiting_run_feed(hub)
    feed.write_directly(Client().write_now)
    gone = weakref.ref(feed)
    gc.disable()
    try:
        feed.close()
        del feed
        assert gone() is None, "the subscription and its stream hold each other"
    finally:
        gc.enable()
