"""An event racing `wait_for_event` steps that start waiting as it is posted, and starting
subscribed workflows: each step is answered by exactly one event, the first posted after
it started waiting, and no event passes by a step that was waiting when it was posted.

Audit entries are numbered as they are written, each inside its own transaction: a run's
start writes its entry after its first step started waiting, and a post writes its entries
after it took the event's name. Their order is the order of those transactions."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any

from tests.runs import API, publish, start, wait_for
from tests.triggers.events import echo, post_event, subscribe, waits_for

if TYPE_CHECKING:
    import httpx

ROUNDS = 4
STARTS_PER_ROUND = 5


async def _audit(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    found = await client.get(f"{API}/audit", params={"per_page": 100})
    assert found.status_code == 200, found.text
    assert int(found.headers["X-Total-Count"]) <= 100
    entries: list[dict[str, Any]] = found.json()
    return sorted(entries, key=lambda entry: entry["id"])


async def test_an_event_racing_waiting_steps_answers_each_once_and_starts_subscribers(
    client: httpx.AsyncClient,
) -> None:
    waiting = await publish(client, waits_for("race"))
    subscribed = await publish(client, echo("v1"))
    await subscribe(client, subscribed, event_name="race")
    runs: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for round_ in range(ROUNDS):
        racing = await asyncio.gather(
            post_event(client, name="race", id=f"race-{round_}", data={"round": round_}),
            *(start(client, waiting) for _ in range(STARTS_PER_ROUND)),
        )
        answers.append(racing[0])
        runs += racing[1:]
    # Whatever still waits hears the last event.
    answers.append(await post_event(client, name="race", id="race-last", data={"round": "last"}))
    replayed = await post_event(client, name="race", id="race-0", data={"round": 0})

    # Each run's step started waiting in its start's own transaction.
    assert {run["status"] for run in runs} == {"waiting"}
    resumed_by = Counter(run_id for answer in answers for run_id in answer["run_ids"])
    assert set(resumed_by) == {run["id"] for run in runs}
    assert set(resumed_by.values()) == {1}, "a step answered twice"
    assert replayed == answers[0]
    assert [len(answer["started"]) for answer in answers] == [1] * (ROUNDS + 1)
    listed = await client.get(f"{API}/runs", params={"lineage_id": subscribed})
    assert listed.headers["X-Total-Count"] == str(ROUNDS + 1)

    # The event each run got is the first one posted after its step started waiting.
    audit = await _audit(client)
    order = {
        (entry["action"], entry["resource_id"]): entry["id"]
        for entry in audit
        if entry["action"] in ("run.start", "run.event")
    }
    posted_at = [order[("run.start", answer["started"][0]["run_id"])] for answer in answers]
    assert posted_at == sorted(posted_at)
    for run in runs:
        started_at = order[("run.start", run["id"])]
        first_after = next(i for i, at in enumerate(posted_at) if at > started_at)
        assert run["id"] in answers[first_after]["run_ids"], (run["id"], first_after)
        done = await wait_for(client, run["id"], "completed")
        assert done["context"]["wait"]["data"] == answers_data(first_after)


def answers_data(index: int) -> dict[str, Any]:
    return {"round": index if index < ROUNDS else "last"}
