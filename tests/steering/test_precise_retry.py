"""Retrying a run from one of its steps: that step and what is downstream run again, the
rest keep their output; the run's input, a step's input and its workflow version may be
replaced for the retry; a dry run answers the plan and changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for
from tests.triggers.events import new_version

if TYPE_CHECKING:
    import httpx

SCHEMA = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}


def _chain(third: str = "{{ b.x }}") -> dict[str, Any]:
    """a -> b -> c, each a transform: b doubles the input's x, c repeats b's."""
    return {
        "nodes": [
            node("a", "transform", {"output": {"seen": "{{ input.x }}"}}),
            node("b", "transform", {"output": {"x": "{{ input.x * 2 }}"}}),
            node("c", "transform", {"output": {"x": third}}),
        ],
        "edges": [edge("a", "b"), edge("b", "c")],
    }


async def _completed(client: httpx.AsyncClient, definition: dict[str, Any]) -> dict[str, Any]:
    workflow_id = await publish(client, definition, input_schema=SCHEMA)
    run = await start(client, workflow_id, {"x": 1})
    return await wait_for(client, run["id"], "completed")


async def _events(client: httpx.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await client.get(f"{API}/runs/{run_id}/events")).json()
    return found


async def _retry(
    client: httpx.AsyncClient, run_id: str, body: dict[str, Any] | None = None, **params: str
) -> httpx.Response:
    return await client.post(f"{API}/runs/{run_id}/retry", json=body, params=params)


async def test_a_retry_from_a_step_runs_it_and_what_follows_with_the_new_input(
    client: httpx.AsyncClient,
) -> None:
    run = await _completed(client, _chain())
    body = {"from_step": "b", "input_overrides": {"input": {"x": 5}}}

    retried = await _retry(client, run["id"], body)

    assert retried.status_code == 200, retried.text
    done = await wait_for(client, run["id"], "completed")
    assert done["input"] == {"x": 5}
    # a kept the output it made from the first input; b and c ran again on the new one.
    assert done["context"] == {"a": {"seen": 1}, "b": {"x": 10}, "c": {"x": 10}}
    steps = await steps_by_id(client, run["id"])
    assert {s: steps[s]["attempt"] for s in "abc"} == {"a": 1, "b": 2, "c": 2}
    event = next(e for e in await _events(client, run["id"]) if e["event_type"] == "run.retried")
    assert event["data"]["from_step"] == "b"
    assert event["data"]["run_again"] == ["b", "c"]
    assert event["data"]["keep"] == ["a"]
    assert event["data"]["input_overrides"] == {"input": {"x": 5}}


async def test_a_step_input_override_is_used_as_it_is_for_the_retried_attempt(
    client: httpx.AsyncClient,
) -> None:
    run = await _completed(client, _chain())
    override = {"output": {"x": "{{ 7*7 }}"}}
    body = {"from_step": "b", "input_overrides": {"steps": {"b": override}}}

    assert (await _retry(client, run["id"], body)).status_code == 200

    done = await wait_for(client, run["id"], "completed")
    # Data is never rendered: the override is the step's rendered input, as it is.
    assert done["context"]["b"] == {"x": "{{ 7*7 }}"}
    assert done["context"]["c"] == {"x": "{{ 7*7 }}"}
    steps = await steps_by_id(client, run["id"])
    assert steps["b"]["input"] == override
    event = next(e for e in await _events(client, run["id"]) if e["event_type"] == "run.retried")
    assert event["data"]["input_overrides"] == {"steps": {"b": override}}


async def test_a_dry_run_answers_the_plan_and_changes_nothing(client: httpx.AsyncClient) -> None:
    run = await _completed(client, _chain())
    before = await _events(client, run["id"])
    audit_before = (await client.get(f"{API}/audit")).json()

    planned = await _retry(client, run["id"], {"from_step": "b"}, dry_run="true")

    assert planned.status_code == 200, planned.text
    plan = planned.json()
    assert plan["run_again"] == ["b", "c"]
    assert plan["keep"] == ["a"]
    assert plan["status"] == "completed"
    assert plan["target_workflow_id"] == run["workflow_id"]
    assert await _events(client, run["id"]) == before
    assert (await client.get(f"{API}/audit")).json() == audit_before
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "completed"


async def test_dry_run_is_true_or_false_and_nothing_else(client: httpx.AsyncClient) -> None:
    run = await _completed(client, _chain())
    before = await _events(client, run["id"])

    for loose in ("1", "yes", "on", "0"):
        refused = await _retry(client, run["id"], {"from_step": "b"}, dry_run=loose)
        assert refused.status_code == 422, (loose, refused.text)
        assert refused.json()["error_code"] == "VALIDATION_ERROR"

    assert await _events(client, run["id"]) == before


async def test_a_wrong_retry_is_refused_with_the_state_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    run = await _completed(client, _chain())
    before = await _events(client, run["id"])
    cases: list[tuple[dict[str, Any] | None, int, str | None]] = [
        ({"from_step": "nope"}, 422, "UNKNOWN_STEP"),
        ({"from_step": "b", "input_overrides": {"input": {"x": "one"}}}, 422, "INPUT_INVALID"),
        (
            {"from_step": "b", "input_overrides": {"steps": {"a": {"output": {}}}}},
            422,
            "OVERRIDE_NOT_RUN_AGAIN",
        ),
        ({"from_step": "b", "input_overrides": {"steps": {"b": {"output": 3}}}}, 422, None),
        (
            {"from_step": "c", "input_overrides": {"steps": {"c": {"output": {}, "x": 1}}}},
            422,
            "STEP_INPUT_INVALID",
        ),
        (None, 409, "INVALID_RUN_STATE"),
    ]
    for body, status, code in cases:
        for dry_run in ("false", "true"):
            answer = await _retry(client, run["id"], body, dry_run=dry_run)
            assert answer.status_code == status, (body, answer.text)
            found = answer.json()
            assert code is None or found["error_code"] == code, found
            assert found["details"]["status"] == "completed", found
    assert await _events(client, run["id"]) == before

    waiting = await start(
        client,
        await publish(
            client, {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}
        ),
    )
    await wait_for(client, waiting["id"], "waiting")
    refused = await _retry(client, waiting["id"], {"from_step": "ask"})
    assert refused.status_code == 409
    assert refused.json()["details"] == {"id": waiting["id"], "status": "waiting"}


async def test_a_cancelled_run_retried_from_a_step_runs_from_it(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [
            node("ask", "approval", {"message": "ok?"}),
            node("after", "transform", {"output": {"ok": True}}),
        ],
        "edges": [edge("ask", "after")],
    }
    run = await start(client, await publish(client, definition))
    await wait_for(client, run["id"], "waiting")
    assert (await client.post(f"{API}/runs/{run['id']}/cancel")).status_code == 200

    retried = await _retry(client, run["id"], {"from_step": "ask"})

    assert retried.status_code == 200, retried.text
    await wait_for(client, run["id"], "waiting")
    approved = await client.post(f"{API}/runs/{run['id']}/approve", json={"approved": True})
    assert approved.status_code == 200, approved.text
    assert (await wait_for(client, run["id"], "completed"))["error"] is None


async def test_to_latest_moves_the_run_to_the_newest_version(client: httpx.AsyncClient) -> None:
    run = await _completed(client, _chain())
    # No newer version: the run stays on its own (not an error).
    same = await _retry(client, run["id"], {"from_step": "c", "to_latest": True})
    assert same.status_code == 200, same.text
    assert same.json()["workflow_id"] == run["workflow_id"]
    await wait_for(client, run["id"], "completed")
    newer = await new_version(client, run["workflow_id"], _chain(third="{{ b.x + 100 }}"))

    planned = await _retry(client, run["id"], {"to_latest": True, "from_step": "c"}, dry_run="true")
    moved = await _retry(client, run["id"], {"to_latest": True, "from_step": "c"})

    assert planned.json()["target_workflow_id"] == newer
    assert planned.json()["run_again"] == ["c"]
    assert moved.status_code == 200, moved.text
    assert moved.json()["workflow_id"] == newer
    done = await wait_for(client, run["id"], "completed")
    assert done["context"]["c"] == {"x": 102}
    retried = [e for e in await _events(client, run["id"]) if e["event_type"] == "run.retried"]
    assert retried[-1]["data"]["workflow_id"] == newer
    assert retried[-1]["data"]["previous_workflow_id"] == run["workflow_id"]


async def test_a_retry_from_a_branch_with_a_new_input_takes_the_other_way(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [
            node("big", "condition", {"expression": "input.x > 10"}),
            node("yes", "transform", {"output": {"way": "yes"}}),
            node("no", "transform", {"output": {"way": "no"}}),
        ],
        "edges": [edge("big", "yes", "true"), edge("big", "no", "false")],
    }
    run = await _completed(client, definition)
    assert set(run["context"]) == {"big", "no"}

    body = {"from_step": "big", "input_overrides": {"input": {"x": 50}}}
    assert (await _retry(client, run["id"], body)).status_code == 200

    done = await wait_for(client, run["id"], "completed")
    assert set(done["context"]) == {"big", "yes"}
    steps = await steps_by_id(client, run["id"])
    assert {s: steps[s]["status"] for s in steps} == {
        "big": "completed",
        "yes": "completed",
        "no": "skipped",
    }
    assert {s: steps[s]["attempt"] for s in steps} == {"big": 2, "yes": 1, "no": 1}


async def test_a_step_input_override_is_held_to_what_its_schema_says(
    client: httpx.AsyncClient,
) -> None:
    call = node("call", "http_request", {"url": "http://127.0.0.1:9/x"})
    run = await start(client, await publish(client, {"nodes": [call], "edges": []}))
    await wait_for(client, run["id"], "failed")

    for url in ("ftp://example.com/x", "notaurl"):
        body = {"input_overrides": {"steps": {"call": {"url": url}}}}
        refused = await _retry(client, run["id"], body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error_code"] == "STEP_INPUT_INVALID"
        assert refused.json()["details"]["errors"][0]["path"] == "/url"
    assert (await client.get(f"{API}/runs/{run['id']}")).json()["status"] == "failed"
