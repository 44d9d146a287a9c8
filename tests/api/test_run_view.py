"""GET /runs/{id} as clients need it: the steps running, the steps waiting and for what,
step counts by status and progress; and GET /runs/{id}/steps in the order steps became
ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for
from tests.waiting import eventually

if TYPE_CHECKING:
    import httpx

    from tests.servers import EchoServer
    from towpath.storage.database import Database

ZERO = dict.fromkeys(
    ["pending", "queued", "running", "waiting", "retrying", "completed", "failed", "skipped"], 0
)
ZERO["held"] = 0

SIZE = {"id": "size", "text": "Size?", "type": "choice", "options": ["S", "M"]}
EACH = {"type": "transform", "config": {"output": {"i": "{{ item }}"}}}


def busy_run(url: str) -> dict[str, Any]:
    """Nine steps: one asks, one reviews, one sleeps, one calls slowly, one retries later,
    and a branch skips `never`."""
    return {
        "nodes": [
            node("ask", "clarification", {"questions": [SIZE]}),
            node("after_ask", "transform", {"output": {"size": "{{ ask.size }}"}}),
            node("review", "approval", {"message": "Ship?", "timeout_seconds": 3600}),
            node("after_review", "transform", {"output": {"ok": True}}),
            node("pause", "delay", {"seconds": 600}),
            # Slow enough to be still running when the test cancels, however loaded the machine.
            node("call", "http_request", {"url": f"{url}/slow?seconds=120", "timeout": 300}),
            node(
                "flaky",
                "http_request",
                {
                    "url": f"{url}/status/503",
                    "retry": {"max_attempts": 3, "backoff_seconds": 600,
                              "max_backoff_seconds": 600},
                },
            ),
            node("check", "condition", {"expression": "input.go"}),
            node("never", "transform", {"output": {}}),
        ],
        "edges": [
            edge("ask", "after_ask"),
            edge("review", "after_review"),
            edge("check", "never", "true"),
        ],
    }  # fmt: skip


async def test_the_run_shows_its_steps_now_their_counts_and_its_progress(
    client: httpx.AsyncClient, echo_server: EchoServer
) -> None:
    run_id = (await start(client, await publish(client, busy_run(echo_server.url)), {"go": False}))[
        "id"
    ]
    run: dict[str, Any] = {}

    async def all_settled() -> bool:
        nonlocal run
        run = (await client.get(f"{API}/runs/{run_id}")).json()
        return len(run["steps_running"]) == 1 and len(run["steps_waiting"]) == 4

    await eventually(all_settled, what="every step running or waiting")
    now = datetime.now(UTC)

    [call] = run["steps_running"]
    assert (call["step_id"], call["step_type"], call["attempt"]) == ("call", "http_request", 1)
    assert abs(datetime.fromisoformat(call["since"]) - now) < timedelta(seconds=30)
    waiting = {w["step_id"]: w for w in run["steps_waiting"]}
    steps = await steps_by_id(client, run_id)

    ask, review, pause, flaky = (waiting[s] for s in ("ask", "review", "pause", "flaky"))
    assert (ask["waits_for"], ask["status"], ask["deadline"]) == ("answers", "waiting", None)
    assert ask["request"] == steps["ask"]["request"]
    assert ask["request"]["questions"][0]["options"] == ["S", "M"]
    assert ask["since"] is not None
    assert (review["waits_for"], review["request"]["message"]) == ("decision", "Ship?")
    assert review["request"] == steps["review"]["request"]
    assert {"approvers", "quorum", "votes"} <= set(review["request"])
    review_deadline = datetime.fromisoformat(review["deadline"]) - now
    assert timedelta(minutes=50) < review_deadline <= timedelta(hours=1)
    assert (pause["waits_for"], pause["status"]) == ("timer", "queued")
    pause_deadline = datetime.fromisoformat(pause["deadline"]) - now
    assert timedelta(minutes=9) < pause_deadline <= timedelta(minutes=10)
    assert (flaky["waits_for"], flaky["status"], flaky["attempt"]) == ("retry", "retrying", 1)
    assert datetime.fromisoformat(flaky["deadline"]) - now > timedelta(minutes=4)
    assert flaky["since"] is not None

    counts = {**ZERO, "cancelled": 0, "running": 1, "waiting": 2, "queued": 1, "retrying": 1}
    assert run["step_counts"] == {**counts, "completed": 1, "skipped": 1}
    # Nine nodes, one skipped: eight will run; `check` is done.
    assert run["progress"] == {"done": 1, "total": 8, "fraction": 0.125}

    answered = await client.post(f"{API}/runs/{run_id}/clarify", json={"answers": {"size": "M"}})
    assert answered.status_code == 200, answered.text
    await eventually(
        lambda: _step_done(client, run_id, "after_ask"), what="the answer to be used downstream"
    )
    run = (await client.get(f"{API}/runs/{run_id}")).json()
    # Made ready together, they go by node id.
    assert [w["step_id"] for w in run["steps_waiting"]] == ["flaky", "pause", "review"]
    assert run["context"]["after_ask"] == {"size": "M"}
    assert run["progress"] == {"done": 3, "total": 8, "fraction": 0.375}

    cancelled = await client.post(f"{API}/runs/{run_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    run = (await client.get(f"{API}/runs/{run_id}")).json()
    assert (run["steps_running"], run["steps_waiting"]) == ([], [])
    assert run["step_counts"] == {**ZERO, "completed": 3, "skipped": 1, "cancelled": 4}
    # `after_review` will never run now: the ended run has done all it will.
    assert run["progress"] == {"done": 7, "total": 7, "fraction": 1.0}


async def _step_done(client: httpx.AsyncClient, run_id: str, step_id: str) -> bool:
    return (await steps_by_id(client, run_id)).get(step_id, {}).get("status") == "completed"


async def test_steps_are_listed_in_the_order_they_became_ready(client: httpx.AsyncClient) -> None:
    # Node ids that sort the other way round from the chain, and a loop whose items start
    # one at a time.
    definition = {
        "nodes": [
            node("zulu", "transform", {"output": {"n": 1}}),
            node("mike", "for_each", {"items": "{{ input.items }}", "step": EACH}),
            node("alpha", "transform", {"output": {"n": 3}}),
        ],
        "edges": [edge("zulu", "mike"), edge("mike", "alpha")],
    }  # fmt: skip
    run = await start(client, await publish(client, definition), {"items": [1, 2, 3]})
    await wait_for(client, run["id"], "completed")

    listed = (await client.get(f"{API}/runs/{run['id']}/steps")).json()

    order = [(s["step_id"], s["item_index"]) for s in listed]
    assert order[0] == ("zulu", None)
    assert order[1] == ("mike", None)
    assert order[-1] == ("alpha", None)
    assert order[2:-1] == [("mike", 0), ("mike", 1), ("mike", 2)]


async def test_a_run_is_read_in_a_few_queries_however_many_steps_it_has(
    client: httpx.AsyncClient, db: Database
) -> None:
    async def queries_to_read(steps: int) -> int:
        nodes = [node(f"s{i}", "transform", {"output": {"i": i}}) for i in range(steps)]
        edges = [edge(f"s{i}", f"s{i + 1}") for i in range(steps - 1)]
        run = await start(client, await publish(client, {"nodes": nodes, "edges": edges}))
        await wait_for(client, run["id"], "completed")
        ran: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if run["id"] in str(parameters) or run["workflow_id"] in str(parameters):
                ran.append(statement)

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            read = (await client.get(f"{API}/runs/{run['id']}")).json()
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert read["progress"] == {"done": steps, "total": steps, "fraction": 1.0}
        assert read["step_counts"]["completed"] == steps
        return len(ran)

    few, many = await queries_to_read(2), await queries_to_read(15)

    # The run with its graph's size, and its steps: no more than the run and its outputs took.
    assert few == many <= 3


async def test_a_run_of_another_workspace_or_none_is_404(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{API}/runs/nope")

    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RUN_NOT_FOUND"
    assert missing.json()["details"] == {"id": "nope"}


async def test_the_openapi_schema_describes_the_new_fields(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    run = schemas["RunResponse"]["properties"]

    assert {"steps_running", "steps_waiting", "step_counts", "progress"} <= set(run)
    assert "steps_running" not in schemas["RunResponse"].get("required", [])
    assert "will run" in schemas["RunProgress"]["properties"]["total"]["description"]
    assert {"waits_for", "request", "deadline", "since"} <= set(
        schemas["WaitingStep"]["properties"]
    )
