"""What the queues show: tasks ready and leased, the oldest one's age, the workers that
polled; the same figures in /metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.queues.flows import API, answer, poll, waiting_task_run

if TYPE_CHECKING:
    import httpx


async def test_a_queue_shows_its_ready_and_leased_tasks_and_workers(
    client: httpx.AsyncClient,
) -> None:
    await waiting_task_run(client, queue="figures")
    await waiting_task_run(client, queue="figures")
    [task] = await poll(client, queue="figures", worker_id="w-a")
    await poll(client, queue="idle", worker_id="w-b", max_tasks=3)

    listed = (await client.get(f"{API}/queues")).json()
    one = (await client.get(f"{API}/queues/figures")).json()
    unknown = (await client.get(f"{API}/queues/nothing-yet")).json()

    assert [q["name"] for q in listed] == ["figures", "idle"]
    assert (one["ready"], one["leased"], one["workers"]) == (1, 1, 1)
    assert one["oldest_ready_age_seconds"] >= 0
    assert one["last_poll_at"] is not None
    assert (unknown["ready"], unknown["workers"], unknown["last_poll_at"]) == (0, 0, None)
    await answer(client, task, "complete", output=1)
    after = (await client.get(f"{API}/queues/figures")).json()
    assert (after["ready"], after["leased"]) == (1, 0)


async def test_metrics_report_the_queues(client: httpx.AsyncClient) -> None:
    await waiting_task_run(client, queue="scraped")
    await waiting_task_run(client, queue="scraped")
    [task] = await poll(client, queue="scraped")
    await answer(client, task, "fail", error="no", retryable=False)

    text = (await client.get("/metrics")).text

    lines = [line for line in text.splitlines() if 'queue="scraped"' in line]
    assert any(
        line.startswith("towpath_task_queue_ready{") and line.endswith(" 1.0") for line in lines
    )
    assert any(
        line.startswith("towpath_task_queue_workers{") and line.endswith(" 1.0") for line in lines
    )
    assert 'towpath_tasks_answered_total{outcome="failed"} 1.0' in text


async def test_bad_requests_are_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    spaced = await client.post(f"{API}/queues/has space/poll", json={"worker_id": "w"})
    no_worker = await client.post(f"{API}/queues/q/poll", json={})
    too_many = await client.post(f"{API}/queues/q/poll", json={"worker_id": "w", "max_tasks": 101})
    too_short = await client.post(
        f"{API}/queues/q/poll", json={"worker_id": "w", "lease_seconds": 1}
    )
    no_token = await client.post(f"{API}/queues/q/tasks/t/complete", json={"output": 1})

    for response, field in [
        (spaced, "name"),
        (no_worker, "worker_id"),
        (too_many, "max_tasks"),
        (too_short, "lease_seconds"),
        (no_token, "lease_token"),
    ]:
        assert response.status_code == 422, response.text
        assert field in response.text


async def test_a_workflow_with_a_bad_queue_name_is_not_published(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [{"id": "work", "type": "task", "data": {"config": {"queue": "no spaces"}}}],
        "edges": [],
    }

    created = await client.post(f"{API}/workflows", json={"name": "wf", "definition": definition})
    response = await client.post(f"{API}/workflows/{created.json()['id']}/publish")

    assert response.status_code == 422, response.text
    assert "queue" in response.text
