"""What the hub remembers of runs whose events it fanned out: every run in progress (up
to its bound), and only the latest ended ones, so a server that starts and finishes a
hundred runs a second holds a bounded few of them, while a run retried after its end
still goes on in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from towpath.events.bus import PublishedEvent
from towpath.events.hub import ENDED_RUNS, EventHub

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def event(run_id: str, seq: int, kind: str = "step.completed") -> PublishedEvent:
    return PublishedEvent("ws", run_id, "wf", seq, kind, None, {}, NOW)


async def test_only_the_latest_ended_runs_are_remembered() -> None:
    hub = EventHub(None, 1000)  # type: ignore[arg-type]  # nothing here reads the database
    sub = hub.subscribe("workspace", "ws", "ws")
    runs = [str(uuid.uuid4()) for _ in range(ENDED_RUNS + 500)]
    going = str(uuid.uuid4())
    hub.accept(event(going, 1))
    for run_id in runs:
        hub.accept(event(run_id, 1))
        hub.accept(event(run_id, 2, "run.completed"))
        while sub.pop() is not None:
            pass

    assert hub.last_seq(going) == 1
    assert hub.last_seq(runs[-1]) == 2
    assert hub.last_seq(runs[0]) is None
    assert sum(hub.last_seq(run_id) is not None for run_id in runs) == ENDED_RUNS


async def test_a_run_retried_after_its_end_goes_on_from_where_it_ended() -> None:
    hub = EventHub(None, 1000)  # type: ignore[arg-type]
    sub = hub.subscribe("workspace", "ws", "ws")
    run_id = str(uuid.uuid4())
    for seq, kind in [(1, "run.started"), (2, "run.completed")]:
        hub.accept(event(run_id, seq, kind))
    # Retried: the end told again (by another process's notification) is not sent twice.
    for seq, kind in [(2, "run.completed"), (3, "run.started"), (4, "run.completed")]:
        hub.accept(event(run_id, seq, kind))

    sent = []
    while (item := sub.pop()) is not None:
        sent.append(item.seq)
    assert sent == [1, 2, 3, 4]
    assert hub.last_seq(run_id) == 4
