"""The pruner: finished runs past their policy are deleted in small batches, one audit
entry a batch; a workflow's policy wins over its workspace's; live trees stay."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from tests.retention.trees import NOOP, WAITS, audit, finished_run, live_child_tree, runs_of
from tests.runs import API, publish, start, wait_for
from towpath.domain.clock import utcnow
from towpath.triggers.pruner import Pruner

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


async def test_old_finished_runs_go_in_batches_and_live_trees_stay(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    pruned = await publish(client, NOOP, name="pruned")
    kept = await publish(client, NOOP, name="kept longer")
    old = [await finished_run(client, pruned) for _ in range(5)]
    kept_run = await finished_run(client, kept)
    waiting = await start(client, await publish(client, WAITS, name="waits"))
    await wait_for(client, waiting["id"], "waiting")
    parent, child = await live_child_tree(client)
    assert (await client.put(f"{API}/retention", json={"finished_runs_days": 3})).status_code == 200
    own = await client.put(f"{API}/workflows/{kept}/retention", json={"finished_runs_days": 10})
    assert own.status_code == 200, own.text
    metrics = app.state.metrics
    pruner = Pruner(
        app.state.runtime, batch=2, pause=0, clock=lambda: utcnow() + timedelta(days=5),
        on_pruned=metrics.runs_pruned.inc,
    )  # fmt: skip

    deleted = await pruner.run_once()

    assert deleted == 5
    assert await runs_of(client, pruned) == []
    for run_id in (kept_run, waiting["id"], parent, child):
        assert (await client.get(f"{API}/runs/{run_id}")).status_code == 200
    batches = await audit(client, "run.prune")
    assert sorted(b["after"]["runs_deleted"] for b in batches) == [1, 2, 2]
    assert {b["actor"] for b in batches} == {"system:retention"}
    assert batches[0]["after"]["policy"] == {"scope": "workspace", "finished_runs_days": 3}
    assert await audit(client, "run.delete") == []
    exposition = (await client.get("/metrics")).text
    assert "towpath_runs_pruned_total 5.0" in exposition
    for run_id in old:
        assert (await client.get(f"{API}/runs/{run_id}")).status_code == 404

    # Past its own ten days, the other workflow's run goes too; the live tree never.
    later = Pruner(app.state.runtime, clock=lambda: utcnow() + timedelta(days=11))
    assert await later.run_once() == 1
    assert (await client.get(f"{API}/runs/{kept_run}")).status_code == 404
    assert (await client.get(f"{API}/runs/{parent}")).status_code == 200


async def test_policies_are_listed_set_and_cleared(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, NOOP, name="reports")

    empty = await client.get(f"{API}/retention")
    refused = [
        await client.put(f"{API}/retention", json=body)
        for body in ({}, {"finished_runs_days": 0}, {"finished_runs_days": "7"})
    ]
    await client.put(f"{API}/retention", json={"finished_runs_days": 30})
    own = await client.put(
        f"{API}/workflows/{workflow_id}/retention", json={"finished_runs_days": 7}
    )
    listed = await client.get(f"{API}/retention")

    assert empty.json() == [
        {"scope": "workspace", "finished_runs_days": None, "workflow_id": None, "name": None}
    ]
    assert [r.status_code for r in refused] == [422, 422, 422]
    assert own.json() == {
        "scope": "workflow",
        "finished_runs_days": 7,
        "workflow_id": workflow_id,
        "name": "reports",
    }
    assert listed.json() == [
        {"scope": "workspace", "finished_runs_days": 30, "workflow_id": None, "name": None},
        own.json(),
    ]
    cleared = await client.put(
        f"{API}/workflows/{workflow_id}/retention", json={"finished_runs_days": None}
    )
    assert cleared.status_code == 200
    assert len((await client.get(f"{API}/retention")).json()) == 1
    changes = await audit(client, "retention.set")
    assert [(c["resource_id"], c["after"]["finished_runs_days"]) for c in changes[::-1]] == [
        ("workspace", 30),
        (workflow_id, 7),
        (workflow_id, None),
    ]
