"""A workflow's lineage (every version of it) names what triggers, lists and statistics
cover, beside one version's id; and every run says what started it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import node
from tests.runs import API, publish, start, wait_for
from tests.triggers.events import echo, new_version

if TYPE_CHECKING:
    import httpx


async def _listed(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    found = await client.get(f"{API}/runs", params=params)
    assert found.status_code == 200, found.text
    runs: list[dict[str, Any]] = found.json()
    assert found.headers["X-Total-Count"] == str(len(runs))
    return runs


async def test_runs_and_stats_of_a_lineage_cover_every_version(
    client: httpx.AsyncClient,
) -> None:
    first = await publish(client, echo("v1"))
    second = await new_version(client, first, echo("v2"))
    other = await publish(client, echo("other"))
    old = await start(client, first)
    new = await start(client, second)
    await start(client, other)
    for run in (old, new):
        await wait_for(client, run["id"], "completed")

    lineage = await _listed(client, lineage_id=first)
    one_version = await _listed(client, workflow_id=first)
    by_second_id = await _listed(client, lineage_id=second)
    both = await _listed(client, lineage_id=first, workflow_id=second)
    version_stats = await client.get(f"{API}/workflows/{first}/stats")
    lineage_stats = await client.get(f"{API}/workflows/{second}/stats?versions=all")
    bad = await client.get(f"{API}/workflows/{second}/stats?versions=some")

    assert {run["id"] for run in lineage} == {old["id"], new["id"]}
    assert {run["lineage_id"] for run in lineage} == {first}
    assert (new["workflow_id"], new["lineage_id"]) == (second, first)
    assert [run["id"] for run in one_version] == [old["id"]]
    # The lineage's id is its first version's id; a later version's id names no lineage.
    assert by_second_id == []
    assert [run["id"] for run in both] == [new["id"]]
    assert version_stats.json()["total_runs"] == 1
    assert lineage_stats.json()["total_runs"] == 2
    assert bad.status_code == 422


async def test_runs_say_what_started_them(client: httpx.AsyncClient) -> None:
    child = await publish(client, echo("child"))
    step = node("call", "sub_workflow", {"workflow_id": child, "wait": True})
    parent = await publish(client, {"nodes": [step], "edges": []})

    manual = await start(client, parent)
    done = await wait_for(client, manual["id"], "completed")
    child_run = await client.get(f"{API}/runs/{done['context']['call']['run_id']}")

    assert (manual["trigger_type"], manual["trigger_id"]) == ("manual", None)
    assert child_run.json()["trigger_type"] == "sub_workflow"
    assert child_run.json()["parent_run_id"] == manual["id"]
