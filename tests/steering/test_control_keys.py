"""Control actions honour `X-Idempotency-Key`: the same key and body answer the first
answer again without acting twice; the same key with another body or on another run is
refused; a request that failed leaves its key free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.runs import API, event_types, wait_for
from tests.steering.conftest import waiting_run
from tests.steering.test_precise_retry import _chain, _completed

if TYPE_CHECKING:
    import httpx


def _key(value: str) -> dict[str, str]:
    return {"X-Idempotency-Key": value}


async def test_an_approval_sent_twice_with_one_key_decides_once_and_answers_alike(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_run(client)
    body = {"step_id": "review", "approved": True, "comment": "fine"}
    url = f"{API}/runs/{run_id}/approve"

    first = await client.post(url, json=body, headers=_key("approve-1"))
    await wait_for(client, run_id, "completed")
    again = await client.post(url, json=body, headers=_key("approve-1"))
    other_body = await client.post(url, json={**body, "approved": False}, headers=_key("approve-1"))
    other_run = await client.post(
        f"{API}/runs/{await waiting_run(client)}/approve", json=body, headers=_key("approve-1")
    )
    without_key = await client.post(url, json=body)

    assert first.status_code == 200, first.text
    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert other_body.status_code == 422
    assert other_body.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert other_body.json()["details"]["differs"] == ["body"]
    assert other_run.status_code == 422
    assert other_run.json()["details"]["differs"] == ["target"]
    # Without a key the action is acted again, and refused: the step was decided.
    assert without_key.status_code == 409
    assert (await event_types(client, run_id)).count("approval.vote") == 1


async def test_a_retry_and_a_cancel_replay_their_first_answer(client: httpx.AsyncClient) -> None:
    run = await _completed(client, _chain())
    body = {"from_step": "c"}
    url = f"{API}/runs/{run['id']}/retry"

    first = await client.post(url, json=body, headers=_key("retry-1"))
    await wait_for(client, run["id"], "completed")
    again = await client.post(url, json=body, headers=_key("retry-1"))

    assert first.status_code == 200, first.text
    assert (again.status_code, again.json()) == (200, first.json())
    assert (await event_types(client, run["id"])).count("run.retried") == 1

    waiting = await waiting_run(client)
    cancel = f"{API}/runs/{waiting}/cancel"
    cancelled = await client.post(cancel, headers=_key("cancel-1"))
    replayed = await client.post(cancel, headers=_key("cancel-1"))
    assert cancelled.status_code == 200, cancelled.text
    assert (replayed.status_code, replayed.json()) == (200, cancelled.json())
    assert replayed.headers["Idempotent-Replayed"] == "true"


async def test_a_refused_action_leaves_its_key_free(client: httpx.AsyncClient) -> None:
    run = await _completed(client, _chain())
    url = f"{API}/runs/{run['id']}/retry"

    refused = await client.post(url, json={"from_step": "nope"}, headers=_key("fix-me"))
    corrected = await client.post(url, json={"from_step": "c"}, headers=_key("fix-me"))

    assert refused.status_code == 422
    assert corrected.status_code == 200, corrected.text
