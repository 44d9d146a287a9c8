"""DELETE /runs/{id}: a finished run goes with the runs below it and all they hold; a
run in flight (or with a run in flight below it) is refused, nothing deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.retention.trees import (
    NOOP,
    WAITS,
    audit,
    finished_run,
    live_child_tree,
    rows_of,
    runs_of,
    starts,
)
from tests.runs import API, publish, start, wait_for

if TYPE_CHECKING:
    import httpx

    from towpath.storage.database import Database


async def test_a_finished_run_is_deleted_with_its_tree_and_audited(
    client: httpx.AsyncClient, db: Database
) -> None:
    child_wf = await publish(client, NOOP, name="child")
    parent_wf = await publish(client, starts(child_wf, wait=True), name="parent")
    subscription = await client.post(
        f"{API}/subscriptions",
        json={"url": "https://receiver.example.com/hooks", "event_types": ["run.completed"]},
    )
    deliveries = f"{API}/subscriptions/{subscription.json()['id']}/deliveries"
    key = {"X-Idempotency-Key": "nightly-7"}
    parent = (
        await client.post(f"{API}/workflows/{parent_wf}/run", json={"input": {}}, headers=key)
    ).json()
    await wait_for(client, parent["id"], "completed")
    [child] = await runs_of(client, child_wf)
    kept = await finished_run(client, child_wf)
    assert await rows_of(db, [parent["id"], child["id"]]) > 0
    assert (await client.get(deliveries)).headers["X-Total-Count"] == "3"

    deleted = await client.delete(f"{API}/runs/{parent['id']}")

    assert deleted.status_code == 204, deleted.text
    for gone in (parent["id"], child["id"]):
        assert (await client.get(f"{API}/runs/{gone}")).status_code == 404
        assert (await client.get(f"{API}/runs/{gone}/events")).status_code == 404
    assert await rows_of(db, [parent["id"], child["id"]]) == 0
    assert (await client.get(f"{API}/runs/{kept}")).status_code == 200
    [left] = (await client.get(deliveries)).json()
    assert left["run_id"] == kept
    [entry] = await audit(client, "run.delete")
    assert entry["resource_id"] == parent["id"]
    assert entry["before"]["status"] == "completed"
    assert entry["after"] == {"runs_deleted": 2, "child_run_ids": [child["id"]]}
    # The key that started the deleted run is free: it starts a new run, not a replay.
    again = await client.post(f"{API}/workflows/{parent_wf}/run", json={"input": {}}, headers=key)
    assert again.status_code == 201, again.text
    assert again.json()["id"] != parent["id"]
    assert "Idempotent-Replayed" not in again.headers


async def test_a_live_run_or_a_tree_with_one_is_refused_and_kept(
    client: httpx.AsyncClient, db: Database
) -> None:
    waiting = await start(client, await publish(client, WAITS))
    await wait_for(client, waiting["id"], "waiting")
    parent, child = await live_child_tree(client)

    refused = await client.delete(f"{API}/runs/{waiting['id']}")
    tree_refused = await client.delete(f"{API}/runs/{parent}")

    assert refused.status_code == 409
    assert refused.json()["error_code"] == "INVALID_RUN_STATE"
    assert refused.json()["details"] == {
        "id": waiting["id"],
        "status": "waiting",
        "live_run_ids": [],
    }
    assert tree_refused.status_code == 409
    assert tree_refused.json()["details"] == {
        "id": parent,
        "status": "completed",
        "live_run_ids": [child],
    }
    for run_id in (waiting["id"], parent, child):
        assert (await client.get(f"{API}/runs/{run_id}")).status_code == 200
    assert await rows_of(db, [parent]) > 0
    assert await audit(client, "run.delete") == []


async def test_deleting_needs_an_admin_and_a_run_of_ones_own_workspace(
    client: httpx.AsyncClient, app_keys: dict[str, dict[str, str]]
) -> None:
    run_id = await finished_run(client, await publish(client, NOOP))

    as_editor = await client.delete(f"{API}/runs/{run_id}", headers=app_keys["editor"])
    missing = await client.delete(f"{API}/runs/{run_id}-nope")

    assert as_editor.status_code == 403
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RUN_NOT_FOUND"
    assert (await client.get(f"{API}/runs/{run_id}")).status_code == 200
