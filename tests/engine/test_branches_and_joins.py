"""Branches and joins: a join after branches runs once when one branch was taken and the
others skipped; a rejection follows its edge or fails the run, however it is given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx


def _switch_diamond() -> dict[str, Any]:
    """route (switch) -> gold | silver | other (default) -> join -> tail."""
    cases = {"gold": "g", "silver": "s"}
    return {
        "nodes": [
            node("route", "switch", {"value": "{{ input.tier }}", "cases": cases}),
            node("gold", "transform", {"output": {"pct": 20}}),
            node("silver", "transform", {"output": {"pct": 10}}),
            node("other", "transform", {"output": {"pct": 0}}),
            node("join", "transform", {"output": {"case": "{{ route.case }}"}}),
            node("tail", "transform", {"output": {"done": True}}),
        ],
        "edges": [
            edge("route", "gold", "gold"),
            edge("route", "silver", "silver"),
            edge("route", "other", "default"),
            edge("gold", "join"),
            edge("silver", "join"),
            edge("other", "join"),
            edge("join", "tail"),
        ],
    }


@pytest.mark.parametrize(("tier", "taken"), [("g", "gold"), ("s", "silver"), ("zzz", "other")])
async def test_a_switch_diamond_takes_one_branch_and_joins_once(
    client: httpx.AsyncClient, tier: str, taken: str
) -> None:
    workflow_id = await publish(client, _switch_diamond())

    run = await start(client, workflow_id, {"tier": tier})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    steps = await steps_by_id(client, run["id"])
    branches = {"gold", "silver", "other"}
    assert steps[taken]["status"] == "completed"
    assert {steps[b]["status"] for b in branches - {taken}} == {"skipped"}
    assert steps["join"]["status"] == "completed"
    assert steps["tail"]["status"] == "completed"
    types = await event_types(client, run["id"])
    assert types.count("run.completed") == 1
    events = (await client.get(f"{API}/runs/{run['id']}/events")).json()
    joins = [e for e in events if e["event_type"] == "step.started" and e["step_id"] == "join"]
    assert len(joins) == 1


async def test_a_join_below_only_skipped_branches_is_skipped_too(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [
            node("check", "condition", {"expression": "input.go"}),
            node("a", "transform", {"output": {"x": 1}}),
            node("b", "transform", {"output": {"x": 2}}),
            node("join", "transform", {"output": {"x": 3}}),
            node("other", "transform", {"output": {"x": 4}}),
        ],
        "edges": [
            edge("check", "a", "true"),
            edge("check", "b", "true"),
            edge("a", "join"),
            edge("b", "join"),
            edge("check", "other", "false"),
        ],
    }
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id, {"go": False})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    steps = await steps_by_id(client, run["id"])
    assert [steps[s]["status"] for s in ("a", "b", "join", "other")] == [
        "skipped",
        "skipped",
        "skipped",
        "completed",
    ]


async def test_a_rejection_given_through_resume_fails_a_run_without_a_rejected_edge(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [
            node("review", "approval", {"message": "Ship it?"}),
            node("ship", "transform", {"output": {"shipped": True}}),
        ],
        "edges": [edge("review", "ship")],
    }
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "waiting")

    resumed = await client.post(
        f"{API}/runs/{run['id']}/resume", json={"data": {"approved": False, "comment": "no"}}
    )

    # As /approve with approved=false would: no rejected edge, so the run fails.
    assert resumed.status_code == 200, resumed.text
    done = await wait_for(client, run["id"], "completed", "failed")
    assert done["status"] == "failed", done["context"]
    steps = await steps_by_id(client, run["id"])
    assert "ship" not in steps or steps["ship"]["status"] != "completed"
