"""GET /inbox and /inbox/count: the waiting steps the caller may answer now, across runs
and workflows, with what each needs; filtered, paged, and counted alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.inbox.conftest import asking, inbox, publish_review, waiting
from tests.runs import API, publish
from tests.steering.conftest import decide, new_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from tests.steering.conftest import Caller


async def _count(client: httpx.AsyncClient, caller: Caller | None = None, **params: str) -> int:
    counted = await client.get(
        f"{API}/inbox/count", params=params, headers=caller.headers if caller else None
    )
    assert counted.status_code == 200, counted.text
    count: int = counted.json()["count"]
    return count


async def test_each_caller_sees_what_it_may_answer_and_the_count_agrees(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana, bo = await new_key(app, name="ana"), await new_key(app, name="bo")
    viewer = await new_key(app, "viewer")
    quorum = await publish_review(
        client, approvers=[ana.principal, bo.principal], quorum=2, timeout_seconds=3600
    )
    approval_run = await waiting(client, quorum)
    question_run = await waiting(client, await publish(client, asking(), name="asking"))

    mine, total = await inbox(client, ana)
    assert total == len(mine) == 2 == await _count(client, ana)
    first = mine[0]
    assert (first["run_id"], first["step_id"]) == (approval_run, "review")
    assert first["type"] == "approval"
    assert first["workflow_id"] == quorum and first["workflow_name"] == "wf"
    assert first["waiting_since"] and first["deadline_at"]
    assert first["approval"] == {
        "message": "ship it?",
        "approvers": [ana.principal, bo.principal],
        "groups": {},
        "quorum": 2,
        "rule": "unanimous",
        "votes": [],
        "escalated": False,
    }
    assert first["clarification"] is None
    assert mine[1]["run_id"] == question_run
    assert mine[1]["clarification"]["questions"][0]["id"] == "size"
    # A viewer answers nothing; the admin is no approver of the review.
    assert await inbox(client, viewer) == ([], 0)
    assert await _count(client, viewer) == 0
    admins, _ = await inbox(client)
    assert [item["run_id"] for item in admins] == [question_run]

    # A vote takes the approval out of the voter's inbox, not out of the other's.
    assert (await decide(client, approval_run, ana, {"approved": True})).status_code == 200
    assert [item["type"] for item in (await inbox(client, ana))[0]] == ["clarification"]
    [pending, _] = (await inbox(client, bo))[0]
    assert [vote["by"] for vote in pending["approval"]["votes"]] == [ana.principal]
    assert await _count(client, bo) == 2


async def test_the_runs_starter_is_not_asked_to_approve_its_own_run(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana = await new_key(app, "admin", name="ana")
    await waiting(client, await publish_review(client, approvers=["role:admin"]))
    assert await _count(client) == 0
    assert await _count(client, ana) == 1


async def test_filters_and_pages(app: FastAPI, client: httpx.AsyncClient) -> None:
    reviews = await publish_review(client)
    runs = [await waiting(client, reviews) for _ in range(3)]
    question = await waiting(client, await publish(client, asking(), name="asking"))
    ana = await new_key(app, name="ana")

    first, total = await inbox(client, ana, per_page=2)
    second, _ = await inbox(client, ana, per_page=2, page=2)
    assert total == 4
    assert [i["run_id"] for i in first + second] == [*runs, question]
    newest, _ = await inbox(client, ana, sort="-waiting_since", per_page=1)
    assert newest[0]["run_id"] == question
    of_workflow, total = await inbox(client, ana, workflow_id=reviews)
    assert total == 3 == await _count(client, ana, workflow_id=reviews)
    assert {i["run_id"] for i in of_workflow} == set(runs)
    assert (await inbox(client, ana, type="clarification"))[1] == 1
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert await inbox(client, ana, since=later) == ([], 0)
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert await _count(client, ana, since=earlier, type="approval") == 3


async def test_a_bad_filter_is_a_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"type": "delay"},
        {"since": "yesterday"},
        {"since": "2026-11-27T10:00:00"},
        {"sort": "run_id"},
        {"per_page": "500"},
        {"workflow_id": "x" * 37},
    ):
        for path in ("/inbox", "/inbox/count"):
            if path.endswith("count") and ("sort" in params or "per_page" in params):
                continue
            refused = await client.get(f"{API}{path}", params=params)
            assert refused.status_code == 422, (path, params, refused.text)
            assert refused.json()["error_code"]
