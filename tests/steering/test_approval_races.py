"""Votes sent at once: each makes exactly one transition; none is lost, and no step is
decided twice. The loser of a race for the deciding vote gets 409 with the state."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tests.runs import API, wait_for
from tests.steering.conftest import decide, new_key, waiting_run

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


async def _event_types(client: httpx.AsyncClient, run_id: str) -> list[str]:
    return [e["event_type"] for e in (await client.get(f"{API}/runs/{run_id}/events")).json()]


async def test_two_votes_at_once_for_a_quorum_of_two_both_count(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana, bo = await new_key(app, name="ana"), await new_key(app, name="bo")
    run_id = await waiting_run(client, approvers=[ana.principal, bo.principal], quorum=2)
    answers = await asyncio.gather(
        decide(client, run_id, ana, {"approved": True}),
        decide(client, run_id, bo, {"approved": True}),
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    done = await wait_for(client, run_id, "completed")
    assert {v["by"] for v in done["context"]["review"]["votes"]} == {ana.principal, bo.principal}
    types = await _event_types(client, run_id)
    assert types.count("approval.vote") == 2
    assert types.count("approval.approved") == 1


async def test_the_loser_of_a_race_for_the_last_vote_gets_409_with_the_state(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana, bo = await new_key(app, name="ana"), await new_key(app, name="bo")
    run_id = await waiting_run(client, approvers=[ana.principal, bo.principal])
    answers = await asyncio.gather(
        decide(client, run_id, ana, {"step_id": "review", "approved": True}),
        decide(client, run_id, bo, {"step_id": "review", "approved": False}),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.text for a in answers]
    loser = next(a for a in answers if a.status_code == 409).json()
    assert loser["error_code"] == "NO_WAITING_STEP"
    assert loser["details"]["step_status"] == "completed"
    assert len(loser["details"]["votes"]) == 1
    done = await wait_for(client, run_id, "completed")
    assert len(done["context"]["review"]["votes"]) == 1
    types = await _event_types(client, run_id)
    assert types.count("approval.vote") == 1
    assert types.count("approval.approved") + types.count("approval.rejected") == 1
