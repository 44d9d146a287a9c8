"""The run API: start, list, read, cancel and retry runs, through HTTP on a real database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for
from towpath.domain.clock import utcnow
from towpath.storage.models import IdempotencyKey

if TYPE_CHECKING:
    import httpx

    from towpath.storage.database import Database

INPUT_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "amount": {"type": "number"}},
    "required": ["name"],
}


def greeting() -> dict[str, Any]:
    """greet -> shout: two transforms, done in a moment."""
    return {
        "nodes": [
            node("greet", "transform", {"output": {"text": "hi {{ input.name }}"}}),
            node("shout", "transform", {"output": {"loud": "{{ greet.text | upper }}"}}),
        ],
        "edges": [edge("greet", "shout")],
    }


def waits_for_approval() -> dict[str, Any]:
    return {
        "nodes": [
            node("review", "approval", {"message": "Pay {{ input.name }}?"}),
            node("pay", "transform", {"output": {"paid": "{{ input.name }}"}}),
        ],
        "edges": [edge("review", "pay")],
    }


async def publish_greeting(client: httpx.AsyncClient, name: str = "greeting") -> str:
    return await publish(client, greeting(), name=name, input_schema=INPUT_SCHEMA)


def run_url(workflow_id: str) -> str:
    return f"{API}/workflows/{workflow_id}/run"


async def run_total(client: httpx.AsyncClient, workflow_id: str) -> int:
    listed = await client.get(f"{API}/runs", params={"workflow_id": workflow_id})
    assert listed.status_code == 200, listed.text
    return int(listed.headers["X-Total-Count"])


# --- starting a run ----------------------------------------------------------------------


async def test_start_a_published_workflow(client: httpx.AsyncClient) -> None:
    workflow_id = await publish_greeting(client)

    response = await client.post(run_url(workflow_id), json={"input": {"name": "Ada"}})

    assert response.status_code == 201, response.text
    run = response.json()
    assert run["workflow_id"] == workflow_id
    assert run["trigger_type"] == "manual"
    assert run["input"] == {"name": "Ada"}
    assert run["status"] in ("running", "completed")
    assert run["error"] is None
    assert run["idempotency_key"] is None
    assert run["parent_run_id"] is None
    assert run["started_at"] is not None
    assert run["created_at"] is not None
    assert run["updated_at"] is not None
    assert isinstance(run["context"], dict)
    done = await wait_for(client, run["id"], "completed", "failed")
    assert done["status"] == "completed", done
    assert done["context"] == {"greet": {"text": "hi Ada"}, "shout": {"loud": "HI ADA"}}
    assert done["completed_at"] is not None
    assert datetime.fromisoformat(done["completed_at"]) >= datetime.fromisoformat(
        done["started_at"]
    )


async def test_a_draft_cannot_run(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/workflows", json={"name": "d", "definition": greeting()})
    workflow_id = created.json()["id"]

    response = await client.post(run_url(workflow_id), json={"input": {}})

    assert response.status_code == 409
    body = response.json()
    assert body["error_code"] == "WORKFLOW_NOT_PUBLISHED"
    assert body["details"]["status"] == "draft"
    assert body["request_id"]
    assert await run_total(client, workflow_id) == 0


async def test_an_unknown_workflow_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(run_url("no-such-workflow"), json={"input": {}})

    assert response.status_code == 404
    assert response.json()["error_code"] == "WORKFLOW_NOT_FOUND"


async def test_input_breaking_the_schema_is_422_with_every_path(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish_greeting(client)

    response = await client.post(run_url(workflow_id), json={"input": {"amount": "lots"}})

    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "INPUT_INVALID"
    errors = body["details"]["errors"]
    # The missing `name` is reported at the root, the wrong `amount` at its path.
    assert {e["path"] for e in errors} == {"/", "/amount"}
    assert any("name" in e["message"] for e in errors if e["path"] == "/")
    assert await run_total(client, workflow_id) == 0


async def test_an_unknown_body_field_is_422(client: httpx.AsyncClient) -> None:
    workflow_id = await publish_greeting(client)

    response = await client.post(
        run_url(workflow_id), json={"input": {"name": "Ada"}, "priority": "high"}
    )

    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert any("priority" in e["loc"] for e in body["details"]["errors"])
    assert await run_total(client, workflow_id) == 0


# --- idempotency -------------------------------------------------------------------------


def keyed(how: str, key: str, run_input: dict[str, Any]) -> dict[str, Any]:
    """The request arguments that carry `key` in the header or in the body."""
    if how == "header":
        return {"json": {"input": run_input}, "headers": {"X-Idempotency-Key": key}}
    return {"json": {"input": run_input, "idempotency_key": key}}


@pytest.mark.parametrize("how", ["header", "body"])
async def test_same_key_and_input_return_the_same_run(client: httpx.AsyncClient, how: str) -> None:
    workflow_id = await publish_greeting(client)

    first = await client.post(run_url(workflow_id), **keyed(how, "order-1", {"name": "Ada"}))
    again = await client.post(run_url(workflow_id), **keyed(how, "order-1", {"name": "Ada"}))

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["idempotency_key"] == "order-1"
    assert await run_total(client, workflow_id) == 1


@pytest.mark.parametrize("how", ["header", "body"])
async def test_same_key_other_input_is_422(client: httpx.AsyncClient, how: str) -> None:
    workflow_id = await publish_greeting(client)
    first = await client.post(run_url(workflow_id), **keyed(how, "order-2", {"name": "Ada"}))

    other = await client.post(run_url(workflow_id), **keyed(how, "order-2", {"name": "Bob"}))

    assert first.status_code == 201, first.text
    assert other.status_code == 422
    assert other.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await run_total(client, workflow_id) == 1


@pytest.mark.parametrize("how", ["header", "body"])
async def test_concurrent_duplicates_start_one_run(client: httpx.AsyncClient, how: str) -> None:
    workflow_id = await publish_greeting(client)

    responses = await asyncio.gather(
        *(
            client.post(run_url(workflow_id), **keyed(how, "race", {"name": "Ada"}))
            for _ in range(8)
        )
    )

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses if r.status_code in (200, 201)}) == 1
    assert await run_total(client, workflow_id) == 1


async def test_an_expired_key_starts_a_new_run(client: httpx.AsyncClient, db: Database) -> None:
    # Keys are kept at least 24 hours; after that the same key starts afresh, as it does
    # for POST /workflows.
    workflow_id = await publish_greeting(client)
    headers = {"X-Idempotency-Key": "nightly"}
    first = await client.post(run_url(workflow_id), json={"input": {"name": "a"}}, headers=headers)
    async with db.transaction() as session:
        row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "nightly"))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)

    second = await client.post(run_url(workflow_id), json={"input": {"name": "a"}}, headers=headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]
    assert await run_total(client, workflow_id) == 2


# --- listing -----------------------------------------------------------------------------


async def test_list_filters_by_workflow_status_and_time(client: httpx.AsyncClient) -> None:
    greeting_id = await publish_greeting(client)
    approval_id = await publish(client, waits_for_approval(), name="approval")
    first = await start(client, greeting_id, {"name": "a"})
    second = await start(client, greeting_id, {"name": "b"})
    waiting = await start(client, approval_id, {"name": "c"})
    await wait_for(client, first["id"], "completed")
    await wait_for(client, second["id"], "completed")
    await wait_for(client, waiting["id"], "waiting")

    async def listed(**params: Any) -> tuple[int, list[str]]:
        response = await client.get(f"{API}/runs", params=params)
        assert response.status_code == 200, response.text
        return int(response.headers["X-Total-Count"]), [r["id"] for r in response.json()]

    # Newest first by default.
    assert await listed() == (3, [waiting["id"], second["id"], first["id"]])
    assert await listed(workflow_id=greeting_id) == (2, [second["id"], first["id"]])
    assert await listed(workflow_id=approval_id) == (1, [waiting["id"]])
    assert await listed(status="waiting") == (1, [waiting["id"]])
    assert await listed(status="completed") == (2, [second["id"], first["id"]])
    assert await listed(status="failed") == (0, [])
    assert await listed(workflow_id=approval_id, status="completed") == (0, [])
    # `since` is inclusive, `until` exclusive, both on created_at.
    middle = second["created_at"]
    assert await listed(since=middle) == (2, [waiting["id"], second["id"]])
    assert await listed(until=middle) == (1, [first["id"]])
    assert await listed(since=middle, until=waiting["created_at"]) == (1, [second["id"]])
    # The same instant written with another offset means the same thing.
    elsewhere = datetime.fromisoformat(middle).astimezone(timezone(timedelta(hours=5)))
    assert await listed(since=elsewhere.isoformat()) == (2, [waiting["id"], second["id"]])


async def test_list_pages_with_a_total(client: httpx.AsyncClient) -> None:
    workflow_id = await publish_greeting(client)
    started = [await start(client, workflow_id, {"name": str(i)}) for i in range(3)]

    pages = [
        await client.get(f"{API}/runs", params={"per_page": 2, "page": page}) for page in (1, 2)
    ]

    assert [p.headers["X-Total-Count"] for p in pages] == ["3", "3"]
    assert [len(p.json()) for p in pages] == [2, 1]
    seen = [r["id"] for p in pages for r in p.json()]
    assert seen == [r["id"] for r in reversed(started)]
    summary = pages[1].json()[0]
    assert summary["workflow_id"] == workflow_id
    assert summary["trigger_type"] == "manual"
    assert {"id", "status", "error", "started_at", "completed_at", "created_at"} <= set(summary)


@pytest.mark.parametrize(
    "params",
    [
        {"status": "done"},
        {"since": "yesterday"},
        {"per_page": 101},
        {"page": 0},
        # Years 10000 and 0 once in UTC, where times are stored.
        {"until": "9999-12-31T23:59:59-14:00"},
        {"since": "0001-01-01T00:00:00+14:00"},
    ],
)
async def test_list_refuses_bad_filters(client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get(f"{API}/runs", params=params)

    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert any(next(iter(params)) in e["loc"] for e in body["details"]["errors"])


@pytest.mark.parametrize(
    ("param", "value"), [("since", "2026-01-01T00:00:00"), ("until", "2026-01-01")]
)
async def test_a_time_without_an_offset_is_422(
    client: httpx.AsyncClient, param: str, value: str
) -> None:
    # A time without an offset is a different instant on every server (the rule `delay`
    # follows too): the caller must say which one they mean.
    response = await client.get(f"{API}/runs", params={param: value})

    assert response.status_code == 422, response.text
    assert param in response.text


# --- reading one run ---------------------------------------------------------------------


async def test_a_run_its_steps_events_and_logs(client: httpx.AsyncClient) -> None:
    workflow_id = await publish_greeting(client)
    run = await start(client, workflow_id, {"name": "Ada"})
    await wait_for(client, run["id"], "completed")

    fetched = await client.get(f"{API}/runs/{run['id']}")
    steps = await client.get(f"{API}/runs/{run['id']}/steps")
    events = await client.get(f"{API}/runs/{run['id']}/events")
    logs = await client.get(f"{API}/runs/{run['id']}/logs")

    assert fetched.status_code == 200
    assert fetched.json()["id"] == run["id"]
    assert fetched.json()["context"]["shout"] == {"loud": "HI ADA"}
    assert steps.status_code == 200
    assert [s["step_id"] for s in steps.json()] == ["greet", "shout"]
    for step in steps.json():
        assert {
            "step_id",
            "step_type",
            "status",
            "attempt",
            "input",
            "output",
            "error",
            "started_at",
            "completed_at",
        } <= set(step)
        assert step["step_type"] == "transform"
        assert step["status"] == "completed"
        assert step["attempt"] == 1
        assert step["error"] is None
        assert datetime.fromisoformat(step["completed_at"]) >= datetime.fromisoformat(
            step["started_at"]
        )
    assert steps.json()[1]["output"] == {"loud": "HI ADA"}
    assert events.status_code == 200
    seqs = [e["seq"] for e in events.json()]
    assert seqs == list(range(1, len(seqs) + 1))
    assert events.json()[0]["event_type"] == "run.created"
    assert events.json()[-1]["event_type"] == "run.completed"
    assert logs.status_code == 200
    assert isinstance(logs.json(), list)


async def test_events_after_a_seq_are_only_the_later_ones(client: httpx.AsyncClient) -> None:
    workflow_id = await publish_greeting(client)
    run = await start(client, workflow_id, {"name": "Ada"})
    await wait_for(client, run["id"], "completed")
    everything = (await client.get(f"{API}/runs/{run['id']}/events")).json()

    later = await client.get(f"{API}/runs/{run['id']}/events", params={"after": 3})
    none = await client.get(f"{API}/runs/{run['id']}/events", params={"after": len(everything)})

    assert len(everything) > 3
    assert later.json() == everything[3:]
    assert later.json()[0]["seq"] == 4
    assert none.json() == []


@pytest.mark.parametrize("suffix", ["", "/steps", "/events", "/logs"])
async def test_an_unknown_run_is_404(client: httpx.AsyncClient, suffix: str) -> None:
    response = await client.get(f"{API}/runs/no-such-run{suffix}")

    assert response.status_code == 404
    body = response.json()
    assert body["error_code"] == "RUN_NOT_FOUND"
    assert body["details"] == {"id": "no-such-run"}


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("cancel", None),
        ("retry", None),
        ("approve", {"approved": True}),
        ("clarify", {"answers": {}}),
        ("resume", {"data": {}}),
    ],
)
async def test_acting_on_an_unknown_run_is_404(
    client: httpx.AsyncClient, action: str, body: dict[str, Any] | None
) -> None:
    response = await client.post(f"{API}/runs/no-such-run/{action}", json=body)

    assert response.status_code == 404
    assert response.json()["error_code"] == "RUN_NOT_FOUND"


# --- cancel and retry --------------------------------------------------------------------


async def test_cancel_a_waiting_run(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, waits_for_approval())
    run = await start(client, workflow_id, {"name": "Ada"})
    await wait_for(client, run["id"], "waiting")

    response = await client.post(
        f"{API}/runs/{run['id']}/cancel", json={"reason": "not needed any more"}
    )

    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["error"] == "not needed any more"
    assert cancelled["completed_at"] is not None
    steps = await steps_by_id(client, run["id"])
    assert steps["review"]["status"] == "cancelled"
    assert steps["review"]["request"] is None
    assert "pay" not in steps
    types = await event_types(client, run["id"])
    assert types[-2:] == ["step.cancelled", "run.cancelled"]
    # Nothing is left waiting for an answer.
    approve = await client.post(f"{API}/runs/{run['id']}/approve", json={"approved": True})
    assert approve.status_code == 409


async def test_cancel_without_a_body(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, waits_for_approval())
    run = await start(client, workflow_id, {"name": "Ada"})
    await wait_for(client, run["id"], "waiting")

    response = await client.post(f"{API}/runs/{run['id']}/cancel")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"


async def test_a_finished_run_cannot_be_cancelled(client: httpx.AsyncClient) -> None:
    workflow_id = await publish_greeting(client)
    run = await start(client, workflow_id, {"name": "Ada"})
    await wait_for(client, run["id"], "completed")

    response = await client.post(f"{API}/runs/{run['id']}/cancel")

    assert response.status_code == 409
    body = response.json()
    assert body["error_code"] == "INVALID_RUN_STATE"
    assert body["details"]["status"] == "completed"
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "completed"


@pytest.mark.parametrize("wanted", ["completed", "waiting", "cancelled"])
async def test_only_a_failed_run_can_be_retried(client: httpx.AsyncClient, wanted: str) -> None:
    definition = greeting() if wanted == "completed" else waits_for_approval()
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id, {"name": "Ada"})
    await wait_for(client, run["id"], "completed" if wanted == "completed" else "waiting")
    if wanted == "cancelled":
        await client.post(f"{API}/runs/{run['id']}/cancel")
    before = await event_types(client, run["id"])

    response = await client.post(f"{API}/runs/{run['id']}/retry")

    assert response.status_code == 409
    body = response.json()
    assert body["error_code"] == "INVALID_RUN_STATE"
    assert body["details"]["status"] == wanted
    assert await event_types(client, run["id"]) == before
