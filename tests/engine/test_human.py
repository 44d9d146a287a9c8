"""Steps that wait for a person: approve or reject, answer questions, resume, time out."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx


def approval_then_report(**approval: Any) -> dict[str, Any]:
    """review (approval) -> report, which shows the decision."""
    config = {"message": "Pay {{ input.amount }} to {{ input.name }}?", **approval}
    return {
        "nodes": [
            node("review", "approval", config),
            node(
                "report",
                "transform",
                {"output": {"approved": "{{ review.approved }}", "said": "{{ review.comment }}"}},
            ),
        ],
        "edges": [edge("review", "report")],
    }


def approval_with_rejected_branch() -> dict[str, Any]:
    """review -> ship when approved, review -> notify when rejected."""
    return {
        "nodes": [
            node("review", "approval", {"message": "Ship it?"}),
            node("ship", "transform", {"output": {"shipped": True}}),
            node("notify", "transform", {"output": {"why": "{{ review.comment }}"}}),
        ],
        "edges": [edge("review", "ship"), edge("review", "notify", "rejected")],
    }


def clarification_then_order() -> dict[str, Any]:
    questions = [
        {"id": "size", "text": "How many for {{ input.name }}?", "type": "number"},
        {"id": "color", "text": "Which color?", "type": "choice", "choices": ["red", "blue"]},
        {"id": "note", "text": "Anything else?", "required": False},
    ]
    return {
        "nodes": [
            node("ask", "clarification", {"questions": questions}),
            node("order", "transform", {"output": {"line": "{{ ask.size }} x {{ ask.color }}"}}),
        ],
        "edges": [edge("ask", "order")],
    }


def run_path(run_id: str, action: str = "") -> str:
    return f"{API}/runs/{run_id}" + (f"/{action}" if action else "")


async def waiting_run(
    client: httpx.AsyncClient, definition: dict[str, Any], run_input: dict[str, Any] | None = None
) -> str:
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id, run_input)
    await wait_for(client, run["id"], "waiting")
    run_id: str = run["id"]
    return run_id


# --- approval ----------------------------------------------------------------------------


async def test_an_approval_waits_then_the_run_goes_on(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client, approval_then_report(), {"name": "Ada", "amount": 40})

    steps = await steps_by_id(client, run_id)
    assert steps["review"]["status"] == "waiting"
    assert steps["review"]["request"]["message"] == "Pay 40 to Ada?"
    assert "report" not in steps
    response = await client.post(
        run_path(run_id, "approve"), json={"approved": True, "comment": "ok"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("running", "completed")
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "completed", done
    assert done["context"]["report"] == {"approved": True, "said": "ok"}
    decision = done["context"]["review"]
    assert decision["approved"] is True
    assert decision["comment"] == "ok"
    assert decision["decided_by"]
    assert decision["decided_at"]
    steps = await steps_by_id(client, run_id)
    assert steps["review"]["status"] == "completed"
    assert steps["review"]["handle"] == "approved"
    assert steps["review"]["request"] is None
    # What someone watching the run sees, in order.
    human = {
        "approval.requested",
        "run.waiting",
        "approval.approved",
        "run.resumed",
        "run.completed",
    }
    types = await event_types(client, run_id)
    assert [t for t in types if t in human] == [
        "approval.requested",
        "run.waiting",
        "approval.approved",
        "run.resumed",
        "run.completed",
    ]
    events = (await client.get(run_path(run_id, "events"))).json()
    requested = next(e for e in events if e["event_type"] == "approval.requested")
    assert requested["step_id"] == "review"
    assert requested["data"]["message"] == "Pay 40 to Ada?"
    approved = next(e for e in events if e["event_type"] == "approval.approved")
    assert approved["data"]["comment"] == "ok"


async def test_a_rejection_without_a_rejected_edge_fails_the_run(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_run(client, approval_then_report(), {"name": "Ada", "amount": 40})

    response = await client.post(
        run_path(run_id, "approve"), json={"approved": False, "comment": "too much"}
    )

    assert response.status_code == 200, response.text
    failed = await wait_for(client, run_id, "completed", "failed")
    assert failed["status"] == "failed", failed
    assert "review" in failed["error"]
    assert "too much" in failed["error"]
    assert "report" not in failed["context"]
    steps = await steps_by_id(client, run_id)
    assert steps["review"]["status"] == "failed"
    assert "report" not in steps or steps["report"]["status"] in ("skipped", "cancelled")
    types = await event_types(client, run_id)
    assert "approval.rejected" in types
    assert types[-1] == "run.failed"


@pytest.mark.parametrize(
    ("approved", "taken", "skipped"), [(False, "notify", "ship"), (True, "ship", "notify")]
)
async def test_a_decision_follows_its_edge_and_skips_the_other(
    client: httpx.AsyncClient, approved: bool, taken: str, skipped: str
) -> None:
    run_id = await waiting_run(client, approval_with_rejected_branch())

    response = await client.post(
        run_path(run_id, "approve"), json={"approved": approved, "comment": "because"}
    )

    assert response.status_code == 200, response.text
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "completed", done
    steps = await steps_by_id(client, run_id)
    assert steps["review"]["handle"] == ("approved" if approved else "rejected")
    assert steps[taken]["status"] == "completed"
    assert steps[skipped]["status"] == "skipped"
    assert skipped not in done["context"]
    if not approved:
        assert done["context"]["notify"] == {"why": "because"}


async def test_approving_a_run_with_nothing_waiting_is_409(client: httpx.AsyncClient) -> None:
    definition = {"nodes": [node("only", "transform", {"output": {"x": 1}})], "edges": []}
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "completed")

    response = await client.post(run_path(run["id"], "approve"), json={"approved": True})

    assert response.status_code == 409
    body = response.json()
    assert body["error_code"] == "NO_WAITING_STEP"
    assert body["details"]["status"] == "completed"


async def test_approving_a_run_that_waits_for_answers_is_409(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client, clarification_then_order(), {"name": "Ada"})

    response = await client.post(run_path(run_id, "approve"), json={"approved": True})
    named = await client.post(
        run_path(run_id, "approve"), json={"approved": True, "step_id": "ask"}
    )

    assert response.status_code == 409
    assert response.json()["error_code"] == "NO_WAITING_STEP"
    assert named.status_code == 409
    assert named.json()["details"]["step_type"] == "clarification"
    assert (await steps_by_id(client, run_id))["ask"]["status"] == "waiting"


async def test_two_waiting_approvals_need_a_step_id(client: httpx.AsyncClient) -> None:
    definition = {
        "nodes": [
            node("start", "transform", {"output": {"n": 1}}),
            node("legal", "approval", {"message": "Legal?"}),
            node("finance", "approval", {"message": "Finance?"}),
            node(
                "done",
                "transform",
                {"output": {"both": "{{ legal.approved and finance.approved }}"}},
            ),
        ],
        "edges": [
            edge("start", "legal"),
            edge("start", "finance"),
            edge("legal", "done"),
            edge("finance", "done"),
        ],
    }
    run_id = await waiting_run(client, definition)

    unnamed = await client.post(run_path(run_id, "approve"), json={"approved": True})
    legal = await client.post(
        run_path(run_id, "approve"), json={"approved": True, "step_id": "legal"}
    )

    assert unnamed.status_code == 409
    assert unnamed.json()["error_code"] == "NO_WAITING_STEP"
    assert unnamed.json()["details"]["waiting_steps"] == ["finance", "legal"]
    assert legal.status_code == 200, legal.text
    assert legal.json()["status"] == "waiting"
    steps = await steps_by_id(client, run_id)
    assert steps["legal"]["status"] == "completed"
    assert steps["finance"]["status"] == "waiting"
    # With one left, step_id may be left out again.
    finance = await client.post(run_path(run_id, "approve"), json={"approved": True})
    assert finance.status_code == 200, finance.text
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "completed", done
    assert done["context"]["done"] == {"both": True}


async def test_concurrent_decisions_are_taken_once(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client, approval_then_report(), {"name": "Ada", "amount": 40})

    responses = await asyncio.gather(
        *(client.post(run_path(run_id, "approve"), json={"approved": i % 2 == 0}) for i in range(4))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409], [r.text for r in responses]
    await wait_for(client, run_id, "completed", "failed")
    types = await event_types(client, run_id)
    assert types.count("approval.approved") + types.count("approval.rejected") == 1


async def test_retry_after_a_rejection_asks_again(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client, approval_then_report(), {"name": "Ada", "amount": 40})
    await client.post(run_path(run_id, "approve"), json={"approved": False, "comment": "no"})
    await wait_for(client, run_id, "failed")

    retried = await client.post(run_path(run_id, "retry"))

    assert retried.status_code == 200, retried.text
    await wait_for(client, run_id, "waiting")
    review = (await steps_by_id(client, run_id))["review"]
    assert review["status"] == "waiting"
    assert review["attempt"] == 2
    assert review["request"]["message"] == "Pay 40 to Ada?"
    # Waiting again: the earlier rejection is history (in `attempts`), not the answer.
    stale = {k: review[k] for k in ("output", "handle", "completed_at")}
    assert stale == {"output": None, "handle": None, "completed_at": None}
    assert (await event_types(client, run_id)).count("approval.requested") == 2
    approved = await client.post(run_path(run_id, "approve"), json={"approved": True})
    assert approved.status_code == 200, approved.text
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "completed", done
    assert done["context"]["report"] == {"approved": True, "said": None}


# --- clarification -----------------------------------------------------------------------


async def test_answers_are_checked_then_used_downstream(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client, clarification_then_order(), {"name": "Ada"})
    steps = await steps_by_id(client, run_id)
    questions = steps["ask"]["request"]["questions"]
    assert [q["id"] for q in questions] == ["size", "color", "note"]
    assert questions[0]["text"] == "How many for Ada?"

    missing = await client.post(run_path(run_id, "clarify"), json={"answers": {"color": "red"}})
    wrong = await client.post(
        run_path(run_id, "clarify"), json={"answers": {"size": "three", "color": "red"}}
    )
    still = await client.get(run_path(run_id))
    answered = await client.post(
        run_path(run_id, "clarify"), json={"answers": {"size": 3, "color": "blue"}}
    )

    assert missing.status_code == 422
    assert missing.json()["error_code"] == "ANSWERS_INVALID"
    assert [e["question"] for e in missing.json()["details"]["errors"]] == ["size"]
    assert wrong.status_code == 422
    assert wrong.json()["details"]["errors"] == [
        {"question": "size", "message": "expected a number"}
    ]
    assert still.json()["status"] == "waiting"
    assert answered.status_code == 200, answered.text
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "completed", done
    assert done["context"]["ask"] == {"size": 3, "color": "blue"}
    assert done["context"]["order"] == {"line": "3 x blue"}
    types = await event_types(client, run_id)
    assert types.index("clarification.requested") < types.index("clarification.answered")
    assert types.count("clarification.answered") == 1


@pytest.mark.parametrize(
    ("answers", "question", "message"),
    [
        ({"size": 1, "color": "green"}, "color", "expected one of ['red', 'blue']"),
        ({"size": True, "color": "red"}, "size", "expected a number"),
        ({"size": 1, "color": "red", "note": 5}, "note", "expected text"),
        ({"size": 1, "color": "red", "extra": "x"}, "extra", "no such question"),
    ],
)
async def test_wrong_answers_are_422_naming_the_question(
    client: httpx.AsyncClient, answers: dict[str, Any], question: str, message: str
) -> None:
    run_id = await waiting_run(client, clarification_then_order(), {"name": "Ada"})

    response = await client.post(
        run_path(run_id, "clarify"), json={"step_id": "ask", "answers": answers}
    )

    assert response.status_code == 422
    assert response.json()["details"]["errors"] == [{"question": question, "message": message}]
    assert (await steps_by_id(client, run_id))["ask"]["status"] == "waiting"


# --- resume ------------------------------------------------------------------------------


async def test_resume_completes_a_waiting_step_with_its_data(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client, approval_then_report(), {"name": "Ada", "amount": 40})
    data = {"approved": True, "comment": "by the ops desk", "ticket": 7}

    response = await client.post(
        run_path(run_id, "resume"), json={"step_id": "review", "data": data}
    )

    assert response.status_code == 200, response.text
    review = response.json()["context"]["review"]
    # The data given is the output; who decided and when, the server says.
    assert review.pop("decided_by").startswith("key:")
    assert review.pop("decided_at")
    assert [vote["approved"] for vote in review.pop("votes")] == [True]
    assert review == data
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "completed", done
    assert {k: done["context"]["review"][k] for k in data} == data
    assert done["context"]["report"] == {"approved": True, "said": "by the ops desk"}
    assert "step.resumed" in await event_types(client, run_id)


async def test_resume_with_nothing_waiting_is_409(client: httpx.AsyncClient) -> None:
    run_id = await waiting_run(client, approval_then_report(), {"name": "Ada", "amount": 40})
    await client.post(run_path(run_id, "approve"), json={"approved": True})
    await wait_for(client, run_id, "completed")

    response = await client.post(run_path(run_id, "resume"), json={"step_id": "review", "data": {}})
    unknown = await client.post(run_path(run_id, "resume"), json={"step_id": "nope", "data": {}})

    assert response.status_code == 409
    assert response.json()["details"]["status"] == "completed"
    assert unknown.status_code == 409
    assert unknown.json()["error_code"] == "NO_WAITING_STEP"


# --- timeouts ----------------------------------------------------------------------------


async def test_an_approval_that_times_out_approves_itself(client: httpx.AsyncClient) -> None:
    definition = approval_then_report(timeout_seconds=1, on_timeout="approve")
    workflow_id = await publish(client, definition)
    # Not waiting for `waiting` first: a loaded machine may first see the run timed out.
    run_id = (await start(client, workflow_id, {"name": "Ada", "amount": 40}))["id"]

    done = await wait_for(client, run_id, "completed", "failed")

    assert done["status"] == "completed", done
    assert done["context"]["review"]["approved"] is True
    assert done["context"]["review"]["decided_by"] == "timeout"
    assert done["context"]["report"]["approved"] is True
    assert "approval.approved" in await event_types(client, run_id)


async def test_an_approval_that_times_out_fails_the_run_by_default(
    client: httpx.AsyncClient,
) -> None:
    workflow_id = await publish(client, approval_then_report(timeout_seconds=1))
    run_id = (await start(client, workflow_id, {"name": "Ada", "amount": 40}))["id"]

    done = await wait_for(client, run_id, "completed", "failed")

    assert done["status"] == "failed", done
    assert "review" in done["error"]
    assert "timeout" in done["error"]
    steps = await steps_by_id(client, run_id)
    assert steps["review"]["status"] == "failed"
    assert "report" not in steps
    # Too late to answer now.
    late = await client.post(run_path(run_id, "approve"), json={"approved": True})
    assert late.status_code == 409
