"""Document 004's client drives tasks and their runs over HTTP and WebSocket: analysis,
plan, plan approval, execution, with the `llm` steps asking a local model server."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.events.conftest import serving
from tests.factories import edge, node
from tests.seeds.tasks_client import TasksClient
from tests.waiting import eventually
from towpath.app import create_app
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from tests.events.conftest import LiveServer
    from tests.servers import LlmServer
    from towpath.config import Settings

API = "/api/v1"
PLAN = "1. Read the sales figures\n2. Write the summary"


@pytest.fixture
def settings(settings: Settings, llm_server: LlmServer) -> Settings:
    # Timers (the approval's timeout) due within a test's patience.
    return settings.model_copy(update={"llm_base_url": llm_server.base_url, "poll_seconds": 0.05})


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[LiveServer]:
    async with serving(app) as server:
        yield server


@pytest.fixture
async def doc(live: LiveServer, auth_headers: dict[str, str]) -> AsyncIterator[TasksClient]:
    # The first request of an app builds its route table from the OpenAPI document.
    async with httpx.AsyncClient(base_url=live.http, headers=auth_headers, timeout=30) as http:
        yield TasksClient(http, live.ws, auth_headers)


async def wait_status(doc: TasksClient, run_id: str, *statuses: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        nonlocal found
        found = await doc.get_run(run_id)
        return found["status"] in statuses

    await eventually(reached, 15, f"run {run_id} in {statuses}")
    return found


async def test_a_run_goes_from_analysis_through_plan_approval_to_completion(
    doc: TasksClient, llm_server: LlmServer
) -> None:
    llm_server.reply("It asks for a summary of Q4.", PLAN, "The summary is written.")
    task = await doc.create_task("Analyze Sales Data", "Q4 2024 analysis", 3)
    assert task["status"] == "pending"
    async with doc.events(f"/ws/tasks/{task['id']}") as task_events:
        run = await doc.create_run(task["id"])
        plan_ready = await task_events.until("plan_ready")
        required = await task_events.until("approval_required")
        waiting = await doc.get_run(run["id"])
        async with doc.events(f"/ws/runs/{run['id']}") as run_events:
            approved = await doc.approve(run["id"], True, "Plan looks good")
            done = await task_events.until("completion", "failure")
            await run_events.until("completion")

    assert task_events.types()[0] == "analysis_start"
    assert plan_ready["data"]["plan"] == PLAN
    assert PLAN in required["data"]["message"]
    assert waiting["status"] == "running"
    assert waiting["plan"] == PLAN
    assert approved["status"] == "running"
    assert done["event_type"] == "completion"
    assert done["run_id"] == run["id"]
    assert "approved" in task_events.types()
    progress = [e["data"]["percentage"] for e in task_events.seen if e["event_type"] == "progress"]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert run_events.types()[0] == "approved"
    assert run_events.types()[-1] == "completion"
    assert (task_events.others, run_events.others) == ([], [])
    finished = await doc.get_run(run["id"])
    assert finished["status"] == "completed"
    assert finished["results"]["execute"]["text"] == "The summary is written."
    # The description and round limit reach the model as data of the prompts.
    prompts = [r.json["messages"][-1]["content"] for r in llm_server.requests if r.json]
    assert len(prompts) == 3
    assert "Q4 2024 analysis" in prompts[1]
    assert "at most 3 rounds" in prompts[1]
    assert PLAN in prompts[2]
    after = await doc.get_task(task["id"])
    assert (after["status"], after["success_rate"], after["total_runs"]) == ("completed", 1.0, 1)
    listed = await doc.list_runs(task_id=task["id"])
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    # The engine recorded each executed step's duration and each llm step's tokens (the
    # approval is decided by a person, not executed).
    summary = {m["name"]: m for m in (await doc.run_summary(run["id"]))["metrics"]}
    assert summary["tokens"]["count"] == 3
    assert summary["duration_seconds"]["count"] == 3
    assert summary["tokens"]["min"] <= summary["tokens"]["avg"] <= summary["tokens"]["max"]
    logs = await doc.logs(run["id"])
    assert logs["total"] >= 3


async def test_a_rejected_plan_stops_the_run(doc: TasksClient, llm_server: LlmServer) -> None:
    llm_server.reply("analysis", PLAN)
    task = await doc.create_task("Rejected", "do something risky", 2)
    async with doc.events("/ws/stream") as stream:
        run = await doc.create_run(task["id"])
        await stream.until("approval_required")
        await doc.approve(run["id"], False, "Too risky")
        rejected = await stream.until("rejected")
        failure = await stream.until("failure")

    assert rejected["data"]["feedback"] == "Too risky"
    assert stream.others == []
    assert "Too risky" in failure["data"]["error"]
    assert (await doc.get_run(run["id"]))["status"] == "failed"
    assert "execute" not in (await doc.get_run(run["id"]))["results"]
    assert (await doc.get_task(task["id"]))["status"] == "failed"
    assert len(llm_server.requests) == 2


async def test_an_unanswered_plan_times_out(
    doc: TasksClient, client: httpx.AsyncClient, llm_server: LlmServer
) -> None:
    """The template is a workflow like any other: its approval's 5 minutes are edited to
    one second through towpath's own API, and the next run of the task takes the edit."""
    task = await doc.create_task("Patient", "wait for me", 1)
    template = (await client.get(f"{API}/workflows/{task['workflow_id']}")).json()
    assert template["definition"]["nodes"][2]["data"]["config"]["timeout_seconds"] == 300
    draft = (await client.post(f"{API}/workflows/{task['workflow_id']}/duplicate")).json()
    definition = draft["definition"]
    definition["nodes"][2]["data"]["config"]["timeout_seconds"] = 1
    edited = await client.put(f"{API}/workflows/{draft['id']}", json={"definition": definition})
    assert edited.status_code == 200, edited.text
    assert (await client.post(f"{API}/workflows/{draft['id']}/publish")).status_code == 200

    async with doc.events(f"/ws/tasks/{task['id']}") as events:
        run = await doc.create_run(task["id"])
        await events.until("approval_required")
        failure = await events.until("failure", seconds=10)

    assert "timeout" in failure["data"]["error"]
    assert (await doc.get_run(run["id"]))["status"] == "timeout"
    timed_out = await doc.list_tasks(status="timeout")
    assert [t["id"] for t in timed_out["items"]] == [task["id"]]
    assert (await doc.list_tasks(status="completed"))["total"] == 0


async def test_a_run_is_cancelled_by_patch_then_deleted(
    doc: TasksClient, llm_server: LlmServer
) -> None:
    task = await doc.create_task("Cancel me", "nothing much", 1)
    run = await doc.create_run(task["id"])
    async with doc.events(f"/ws/runs/{run['id']}") as events:
        await wait_status(doc, run["id"], "running")
        await eventually(lambda: _plan_of(doc, run["id"]), 15, "the plan")
        cancelled = await doc.update_run(run["id"], "cancelled")
        await events.until("cancelled")

    assert cancelled["status"] == "cancelled"
    assert events.others == []
    assert (await doc.get_task(task["id"]))["status"] == "cancelled"
    # The status it has changes nothing; one only its steps give is refused as the
    # document refuses: a 400.
    assert (await doc.update_run(run["id"], "cancelled"))["status"] == "cancelled"
    bad = await doc.http.patch(f"/api/runs/{run['id']}", json={"status": "completed"})
    assert bad.status_code == 400, bad.text
    assert bad.json()["error_code"] == "INVALID_STATUS_CHANGE"
    deleted = await doc.http.delete(f"/api/runs/{run['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"id": run["id"], "deleted": True}
    assert (await doc.http.get(f"/api/runs/{run['id']}")).status_code == 404


async def test_patch_holds_a_run_as_pending_and_lets_it_go_on_as_running(
    doc: TasksClient, llm_server: LlmServer
) -> None:
    llm_server.reply("analysis", PLAN, "done")
    task = await doc.create_task("Hold me", "something", 1)
    run = await doc.create_run(task["id"])
    await eventually(lambda: _plan_of(doc, run["id"]), 15, "the plan")

    held = await doc.update_run(run["id"], "pending")
    again = await doc.update_run(run["id"], "pending")
    going = await doc.update_run(run["id"], "running")
    approved = await doc.approve(run["id"], True, "go")
    finished = await wait_status(doc, run["id"], "completed")
    late = await doc.http.post(f"/api/runs/{run['id']}/approve", json={"approved": True})
    ended = await doc.http.patch(f"/api/runs/{run['id']}", json={"status": "running"})

    assert (held["status"], again["status"], going["status"]) == ("pending", "pending", "running")
    assert approved["status"] == "running"
    assert finished["results"]["execute"]["text"] == "done"
    # What the run's state does not allow is the document's 400, never a 409.
    assert (late.status_code, ended.status_code) == (400, 400), (late.text, ended.text)
    assert (await doc.update_run(run["id"], "completed"))["status"] == "completed"


async def test_deleting_a_run_in_flight_cancels_it_then_deletes_it(
    doc: TasksClient, llm_server: LlmServer
) -> None:
    llm_server.reply("analysis", PLAN)
    task = await doc.create_task("Drop me", "something", 1)
    run = await doc.create_run(task["id"])
    await eventually(lambda: _plan_of(doc, run["id"]), 15, "the plan")

    deleted = await doc.http.delete(f"/api/runs/{run['id']}")

    assert deleted.status_code == 200, deleted.text
    assert (await doc.http.get(f"/api/runs/{run['id']}")).status_code == 404
    assert (await doc.list_runs(task_id=task["id"]))["total"] == 0
    assert (await doc.http.delete(f"/api/runs/{run['id']}")).status_code == 404


async def _kinds_until_cancelled(ws: Any, doc: TasksClient, run_id: str) -> list[str]:
    """The `event_type` (else `type`) of each message up to the run's cancellation."""
    kinds: list[str] = []
    await eventually(lambda: _plan_of(doc, run_id), 15, "the plan")
    await doc.update_run(run_id, "cancelled")
    while not {"run.cancelled", "cancelled"} & set(kinds):
        message = json.loads(await asyncio.wait_for(ws.recv(), 15))
        kinds.append(message.get("event_type") or message["type"])
    return kinds


@pytest.mark.parametrize(
    ("query", "towpaths", "documents"),
    [("", True, True), ("?events=towpath", True, False), ("?events=tasks", False, True)],
)
async def test_a_run_stream_carries_what_its_query_asks(
    doc: TasksClient,
    live: LiveServer,
    auth_headers: dict[str, str],
    llm_server: LlmServer,
    query: str,
    towpaths: bool,
    documents: bool,
) -> None:
    """With no query (the document's client) a task run's stream has towpath's messages
    and the document's events; each query keeps one of the two alone."""
    llm_server.reply("analysis", PLAN)
    task = await doc.create_task("Watched", "something", 1)
    run = await doc.create_run(task["id"])
    url = f"{live.ws}/ws/runs/{run['id']}{query}"
    async with connect(url, additional_headers=auth_headers) as ws:
        kinds = set(await _kinds_until_cancelled(ws, doc, run["id"]))
        if towpaths and documents:
            while "cancelled" not in kinds:
                message = json.loads(await asyncio.wait_for(ws.recv(), 15))
                kinds.add(message.get("event_type") or message["type"])

    assert ({"snapshot", "run.cancelled"} <= kinds) is towpaths
    assert ("cancelled" in kinds) is documents
    if not towpaths:
        assert not {"snapshot", "run.cancelled", "step.completed"} & kinds
    if not documents:
        assert not {"analysis_start", "plan_ready", "cancelled"} & kinds


async def _plan_of(doc: TasksClient, run_id: str) -> bool:
    return (await doc.get_run(run_id))["plan"] is not None


async def test_lists_page_by_skip_and_limit_and_refuse_bad_parameters(doc: TasksClient) -> None:
    for number in range(12):
        await doc.create_task(f"task {number}", "", 1)

    first = await doc.list_tasks()
    rest = await doc.list_tasks(skip=10, limit=100)
    # "max 100 items per request": a larger limit answers at most 100.
    capped = await doc.list_tasks(limit=500)

    assert (len(first["items"]), first["total"], first["limit"]) == (10, 12, 10)
    assert [t["name"] for t in rest["items"]] == ["task 1", "task 0"]
    assert (len(capped["items"]), capped["limit"]) == (12, 100)
    assert (await doc.list_runs(limit=101))["limit"] == 100
    for params in ({"limit": 0}, {"skip": -1}, {"status": "lost"}, {"limit": "ten"}):
        refused = await doc.http.get("/api/tasks/", params=params)
        assert refused.status_code == 400, (params, refused.text)
        assert refused.json()["error_code"] == "INVALID_PARAMETER"
    assert (await doc.http.get("/api/metrics/", params={"skip": "x"})).status_code == 400
    assert (await doc.http.get("/api/tasks/nope")).status_code == 404
    assert (await doc.http.get("/api/runs/nope")).status_code == 404
    assert (await doc.http.get("/api/metrics/task/nope/summary")).status_code == 404
    # A filter naming no task finds nothing; a run of no task is an invalid parameter.
    assert (await doc.list_runs(task_id="nope"))["total"] == 0
    unknown = await doc.http.post("/api/runs/", json={"task_id": "nope"})
    assert unknown.status_code == 400, unknown.text
    assert unknown.json()["error_code"] == "INVALID_PARAMETER"


async def test_steps_record_metrics_summarised_per_task_and_run(
    doc: TasksClient, client: httpx.AsyncClient
) -> None:
    """A task over an existing workflow: its steps report `metrics` and emit an event."""
    definition = {
        "nodes": [
            node(
                "count", "transform", {"output": {"metrics": {"rounds": "{{ input.max_rounds }}"}}}
            ),
            node(
                "tell", "emit", {"event": "halfway", "data": {"rounds": "{{ input.max_rounds }}"}}
            ),
        ],
        "edges": [edge("count", "tell")],
    }
    schema = {"type": "object", "properties": {"max_rounds": {"type": "integer"}}}
    body = {"name": "counted", "definition": definition, "input_schema": schema}
    workflow = (await client.post(f"{API}/workflows", json=body)).json()
    assert (await client.post(f"{API}/workflows/{workflow['id']}/publish")).status_code == 200
    created = await doc.http.post(
        "/api/tasks/", json={"name": "counted", "max_rounds": 2, "workflow_id": workflow["id"]}
    )
    assert created.status_code == 201, created.text
    task = created.json()

    async with doc.events(f"/ws/tasks/{task['id']}") as events:
        first = await doc.create_run(task["id"])
        halfway = await events.until("halfway")
        await events.until("completion")
    await doc.update_task(task["id"], max_rounds=6)
    second = await doc.create_run(task["id"])
    await wait_status(doc, second["id"], "completed")

    assert halfway["data"] == {"rounds": 2}
    by_task = {m["name"]: m for m in (await doc.task_summary(task["id"]))["metrics"]}
    assert by_task["rounds"] == {
        "name": "rounds",
        "count": 2,
        "min": 2,
        "max": 6,
        "avg": 4,
        "last": 6,
    }
    by_run = {m["name"]: m for m in (await doc.run_summary(first["id"]))["metrics"]}
    assert by_run["rounds"]["last"] == 2
    listed = await doc.metrics(task_id=task["id"], name="rounds")
    assert listed["total"] == 2
    one = await doc.metric(listed["items"][0]["id"])
    assert (one["value"], one["run_id"], one["task_id"]) == (6, second["id"], task["id"])
    assert (await doc.get_task(task["id"]))["success_rate"] == 1.0


async def test_without_the_profile_its_paths_are_not_found(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"profiles": frozenset()}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://towpath.test") as http:
        for path in ("/api/tasks/", "/api/runs/", "/api/metrics/"):
            assert (await http.get(path)).status_code == 404


async def test_callers_are_held_to_towpath_roles_and_workspaces(
    app: FastAPI, doc: TasksClient
) -> None:
    task = await doc.create_task("mine", "", 1)
    db = app.state.db
    viewer = (await issue_workspace_key(db, "viewer", "viewer")).plaintext
    theirs = (await issue_workspace_key(db, "theirs", "admin", workspace="other-team")).plaintext

    def as_key(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    anonymous = await doc.http.get("/api/tasks/", headers={"Authorization": ""})
    seen = await doc.http.get(f"/api/tasks/{task['id']}", headers=as_key(viewer))
    refused = await doc.http.post("/api/tasks/", json={"name": "x"}, headers=as_key(viewer))
    hidden = await doc.http.get(f"/api/tasks/{task['id']}", headers=as_key(theirs))
    listed = await doc.http.get("/api/tasks/", headers=as_key(theirs))

    assert anonymous.status_code == 401
    assert seen.status_code == 200
    assert refused.status_code == 403
    assert hidden.status_code == 404
    assert listed.json()["total"] == 0
