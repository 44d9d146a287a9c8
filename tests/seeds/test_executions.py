"""The execution API of the founding document 002, driven by a client written only from
that document (tests/seeds/executions_client.py) against a real server, on SQLite and
PostgreSQL: executions with an acceptance and with a clarification from start to finish
over HTTP and its WebSocket, its filters, and its errors and statuses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.events.conftest import serving
from tests.runs import admin_headers, publish, wait_for
from tests.seeds.executions_client import ApiError, ExecutionsClient
from tests.seeds.executions_flows import (
    accepted_then_done,
    clarified_then_done,
    straight_through,
    typed_form,
)
from tests.tenants import other_workspace
from tests.waiting import eventually
from towpath.app import create_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from tests.seeds.executions_client import ExecutionResponse
    from towpath.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Idle streams pinged while a test watches; timers due within a test's patience.
    return settings.model_copy(update={"poll_seconds": 0.05, "stream_heartbeat_seconds": 0.5})


@pytest.fixture
async def executions(app: FastAPI, auth_headers: dict[str, str]) -> AsyncIterator[ExecutionsClient]:
    async with (
        serving(app) as live,
        httpx.AsyncClient(base_url=live.http, headers=auth_headers) as http,
    ):
        yield ExecutionsClient(http, live.ws, auth_headers)


async def reaches(
    executions: ExecutionsClient, execution_id: str, status: str
) -> ExecutionResponse:
    found: list[ExecutionResponse] = []

    async def there() -> bool:
        found[:] = [await executions.get(execution_id)]
        return found[0].status == status

    await eventually(there, 15, f"execution {execution_id} {status}")
    return found[0]


async def waiting_for_acceptance(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> ExecutionResponse:
    """An execution of a new workflow, waiting for its one acceptance."""
    started = await executions.start(await publish(client, accepted_then_done()), "apollo")
    return await reaches(executions, started.execution_id, "waiting_acceptance")


async def test_an_execution_waits_for_its_acceptance_then_completes(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    workflow_id = await publish(client, accepted_then_done(gates=2))

    started = await executions.start(workflow_id, "apollo", {"ticket": "T-1"})
    assert (started.workflow_id, started.project_id) == (workflow_id, "apollo")
    assert started.status in ("pending", "running", "waiting_acceptance")
    waiting = await reaches(executions, started.execution_id, "waiting_acceptance")
    assert waiting.current_step_id == "review0"
    assert waiting.pending_acceptance is not None
    assert waiting.pending_acceptance["step_id"] == "review0"
    assert waiting.pending_acceptance["message"] == "ship 0?"
    assert waiting.pending_clarification is None
    assert waiting.completed_steps == []
    assert waiting.started_at is not None and waiting.completed_at is None

    async with executions.events(started.execution_id) as stream:
        first = await stream.next()
        assert first.data["status"] == "waiting_acceptance"
        answered = await executions.accept(started.execution_id, True, "looks right")
        assert answered.execution_id == started.execution_id
        # The second acceptance is asked for over the socket.
        asked = await stream.until("waiting_acceptance")
        assert asked.step_id == "review1"
        again = await executions.get(started.execution_id)
        assert again.status == "waiting_acceptance"
        assert again.completed_steps == ["review0"]
        assert again.pending_acceptance is not None
        assert again.pending_acceptance["step_id"] == "review1"
        await executions.accept(started.execution_id, True)
        events = await stream.rest()
        assert stream.ws.close_code == 1000

    kinds = [e.event_type for e in events]
    assert kinds.index("acceptance_accepted") < kinds.index("waiting_acceptance")
    assert ("step_completed", "review0") in [(e.event_type, e.step_id) for e in events]
    assert ("step_started", "done") in [(e.event_type, e.step_id) for e in events]
    assert ("step_completed", "done") in [(e.event_type, e.step_id) for e in events]
    assert kinds[-1] == "execution_completed"
    accepted = next(e for e in events if e.event_type == "acceptance_accepted")
    assert accepted.step_id == "review0" and accepted.data["comment"] == "looks right"
    moments = [e.timestamp for e in events[1:]]
    assert moments == sorted(moments)

    done = await executions.status(workflow_id, started.execution_id)
    assert done.status == "completed"
    assert done.completed_steps == ["review0", "review1", "done"]
    assert (done.current_step_id, done.pending_acceptance, done.error) == (None, None, None)
    assert done.completed_at is not None


async def test_a_rejected_acceptance_fails_the_execution(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await waiting_for_acceptance(client, executions)

    async with executions.events(started.execution_id) as stream:
        await stream.next()
        await executions.accept(started.execution_id, False, "not yet")
        events = await stream.rest()

    assert [e.event_type for e in events][-1] == "execution_failed"
    rejected = next(e for e in events if e.event_type == "acceptance_rejected")
    assert rejected.step_id == "review0"
    failed = await executions.get(started.execution_id)
    assert failed.status == "failed"
    assert failed.error is not None and "not yet" in failed.error


async def test_an_execution_waits_for_its_clarification_then_completes(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    workflow_id = await publish(client, clarified_then_done())
    started = await executions.start(workflow_id, "gemini")

    async with executions.events(started.execution_id) as stream:
        first = await stream.next()
        if first.data["status"] != "waiting_clarification":
            asked = await stream.until("waiting_clarification")
            assert asked.step_id == "ask"
        waiting = await executions.get(started.execution_id)
        assert waiting.status == "waiting_clarification"
        assert waiting.current_step_id == "ask"
        assert waiting.pending_acceptance is None
        assert waiting.pending_clarification is not None
        questions = waiting.pending_clarification["questions"]
        assert [q["id"] for q in questions] == ["size"]

        await executions.clarify(started.execution_id, {"size": "L"})
        events = await stream.rest()

    answered = next(e for e in events if e.event_type == "clarification_submitted")
    assert answered.step_id == "ask" and answered.data["answers"] == {"size": "L"}
    assert events[-1].event_type == "execution_completed"
    done = await executions.get(started.execution_id)
    assert done.status == "completed"
    assert done.completed_steps == ["ask", "done"]
    assert done.pending_clarification is None
    # What the answer fed into: the run's own record, read through towpath's API.
    run = (await client.get(f"/api/v1/runs/{started.execution_id}")).json()
    assert run["context"]["done"] == {"size": "L"}
    assert run["project_id"] == "gemini"


async def test_cancel_ends_a_waiting_execution_and_its_stream(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await waiting_for_acceptance(client, executions)

    async with executions.events(started.execution_id) as stream:
        await stream.next()
        cancelled = await executions.cancel(started.execution_id)
        events = await stream.rest()

    assert cancelled.status == "cancelled"
    assert cancelled.pending_acceptance is None
    assert events[-1].event_type == "execution_cancelled"


async def test_resume_goes_on_with_a_paused_execution(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await waiting_for_acceptance(client, executions)
    # The document has no pause: towpath's own API pauses the run.
    paused = await client.post(f"/api/v1/runs/{started.execution_id}/pause", json={})
    assert paused.status_code == 200, paused.text
    assert (await executions.get(started.execution_id)).status == "paused"

    resumed = await executions.resume(started.execution_id)

    assert resumed.status == "waiting_acceptance"
    await executions.accept(started.execution_id, True)
    await reaches(executions, started.execution_id, "completed")


async def test_many_clients_watch_one_execution(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await waiting_for_acceptance(client, executions)

    async with (
        executions.events(started.execution_id) as one,
        executions.events(started.execution_id) as two,
    ):
        await one.next()
        await two.next()
        await executions.accept(started.execution_id, True)
        first, second = await one.rest(), await two.rest()

    assert [e.model_dump() for e in first[1:]] == [e.model_dump() for e in second[1:]]
    assert first[-1].event_type == "execution_completed"


async def test_an_ended_execution_sends_its_status_and_closes(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await waiting_for_acceptance(client, executions)
    await executions.cancel(started.execution_id)

    async with executions.events(started.execution_id) as stream:
        events = await stream.rest()

    assert [e.event_type for e in events] == ["execution_status"]
    assert events[0].data["status"] == "cancelled"
    assert stream.ws.close_code == 1000


async def test_a_failed_call_raises_the_documents_error(executions: ExecutionsClient) -> None:
    with pytest.raises(ApiError) as raised:
        await executions.get("no-such-execution")
    assert raised.value.status == 404
    assert raised.value.error.error_code == "EXECUTION_NOT_FOUND"


async def test_executions_are_listed_by_status_project_and_workflow(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    accepting = await publish(client, accepted_then_done())
    clarifying = await publish(client, clarified_then_done())
    plain = await publish(client, straight_through())
    acceptance = await executions.start(accepting, "apollo")
    clarification = await executions.start(clarifying, "apollo")
    through = await executions.start(plain, "gemini")
    await reaches(executions, acceptance.execution_id, "waiting_acceptance")
    await reaches(executions, clarification.execution_id, "waiting_clarification")
    await reaches(executions, through.execution_id, "completed")

    def ids(found: list[ExecutionResponse]) -> set[str]:
        return {e.execution_id for e in found}

    everything = {acceptance.execution_id, clarification.execution_id, through.execution_id}
    assert ids(await executions.list()) == everything
    assert ids(await executions.list(project_id="apollo")) == everything - {through.execution_id}
    assert ids(await executions.list(project_id="gemini")) == {through.execution_id}
    assert await executions.list(project_id="mercury") == []
    assert ids(await executions.list(status="waiting_acceptance")) == {acceptance.execution_id}
    waiting = await executions.list(status="waiting_clarification")
    assert ids(waiting) == {clarification.execution_id}
    assert waiting[0].pending_clarification is not None
    assert ids(await executions.list(status="completed")) == {through.execution_id}
    assert await executions.list(status="waiting") == []
    assert ids(await executions.list(workflow_id=accepting)) == {acceptance.execution_id}
    both = await executions.list(project_id="apollo", status="waiting_acceptance")
    assert ids(both) == {acceptance.execution_id}
    paged = await executions.http.get("/api/v1/executions", params={"per_page": 1})
    assert paged.headers["X-Total-Count"] == "3" and len(paged.json()) == 1


async def error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert set(body) == {"error_code", "message", "details", "request_id"}
    assert body["error_code"] == code, body
    return body


async def test_errors_answer_the_documents_statuses(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    workflow_id = await publish(client, accepted_then_done(), input_schema=schema)
    http = executions.http
    start = f"/api/v1/workflows/{workflow_id}/start"
    missing = "/api/v1/workflows/no-such-workflow/start"

    await error(await http.post(missing, json={"project_id": "p"}), 404, "WORKFLOW_NOT_FOUND")
    invalid = await error(await http.post(start, json={}), 400, "VALIDATION_ERROR")
    assert "project_id" in str(invalid["details"])
    await error(await http.post(start, json={"project_id": "p", "x": 1}), 400, "VALIDATION_ERROR")
    context = {"project_id": "p", "initial_context": {"n": "one"}}
    await error(await http.post(start, json=context), 400, "INPUT_INVALID")
    await error(await http.post(start, content=b"{", headers=JSON), 400, "MALFORMED_JSON")
    await error(await http.get("/api/v1/executions/nope"), 404, "EXECUTION_NOT_FOUND")
    await error(await http.get("/api/v1/executions?status=asleep"), 400, "VALIDATION_ERROR")
    await error(await http.post("/api/v1/executions/nope/cancel"), 404, "EXECUTION_NOT_FOUND")

    started = await executions.start(workflow_id, "p", {"n": 1})
    run = f"/api/v1/executions/{started.execution_id}"
    await reaches(executions, started.execution_id, "waiting_acceptance")
    await error(await http.post(f"{run}/acceptance", json={}), 400, "VALIDATION_ERROR")
    answers = {"answers": {"q": "a"}}
    await error(await http.post(f"{run}/clarification", json=answers), 400, "NO_WAITING_STEP")
    await error(await http.post(f"{run}/clarification", json={}), 400, "VALIDATION_ERROR")
    await error(await http.post(f"{run}/resume"), 400, "INVALID_RUN_STATE")
    other = f"/api/v1/workflows/{await publish(client, straight_through())}/executions"
    await error(await http.get(f"{other}/{started.execution_id}"), 404, "EXECUTION_NOT_FOUND")

    await executions.accept(started.execution_id, True)
    await reaches(executions, started.execution_id, "completed")
    await error(await http.post(f"{run}/cancel"), 400, "INVALID_RUN_STATE")
    late = await http.post(f"{run}/acceptance", json={"accepted": True})
    await error(late, 400, "NO_WAITING_STEP")


JSON = {"Content-Type": "application/json"}


async def test_a_clarification_missing_answers_is_a_400(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await executions.start(await publish(client, clarified_then_done()), "p")
    await reaches(executions, started.execution_id, "waiting_clarification")

    with pytest.raises(ApiError) as raised:
        await executions.clarify(started.execution_id, {})

    assert (raised.value.status, raised.value.error.error_code) == (400, "ANSWERS_INVALID")
    assert (await executions.get(started.execution_id)).status == "waiting_clarification"


async def test_text_answers_are_read_as_their_questions_types(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await executions.start(await publish(client, typed_form()), "p")
    await reaches(executions, started.execution_id, "waiting_clarification")
    answers = {"ratio": "0.5", "count": "3", "urgent": "Yes", "level": "high"}
    answers["extras"] = "wrap, card"

    await executions.clarify(started.execution_id, answers)
    done = await reaches(executions, started.execution_id, "completed")

    assert done.completed_steps == ["ask", "done"]
    context = (await client.get(f"/api/v1/runs/{started.execution_id}")).json()["context"]
    assert context["ask"] == {
        "ratio": 0.5,
        "count": 3,
        "urgent": True,
        "level": "high",
        "extras": ["wrap", "card"],
    }


@pytest.mark.parametrize(
    ("question", "text"),
    [("ratio", "half"), ("count", "2.5"), ("urgent", "maybe"), ("extras", '["card"')],
)
async def test_a_text_answer_that_is_not_its_questions_type_is_a_400(
    client: httpx.AsyncClient, executions: ExecutionsClient, question: str, text: str
) -> None:
    started = await executions.start(await publish(client, typed_form()), "p")
    await reaches(executions, started.execution_id, "waiting_clarification")
    answers = {"ratio": "1", "count": "1", "urgent": "no", "level": "low", "extras": "card"}

    with pytest.raises(ApiError) as raised:
        await executions.clarify(started.execution_id, {**answers, question: text})

    assert (raised.value.status, raised.value.error.error_code) == (400, "INVALID_ANSWER")
    details = raised.value.error.details or {}
    assert (details["question_id"], details["answer"]) == (question, text)
    assert (await executions.get(started.execution_id)).status == "waiting_clarification"


async def test_the_list_holds_every_execution_as_the_document_pages_none(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    workflow_id = await publish(client, straight_through())
    started = [await executions.start(workflow_id, "many") for _ in range(23)]

    listed = await executions.list(project_id="many")
    paged = await executions.http.get(
        "/api/v1/executions", params={"project_id": "many", "per_page": 5, "page": 2}
    )

    assert {e.execution_id for e in listed} == {e.execution_id for e in started}
    assert len(listed) == 23
    assert paged.status_code == 200
    assert len(paged.json()) == 5
    assert paged.headers["X-Total-Count"] == "23"


async def test_another_workspaces_executions_stay_invisible(
    app: FastAPI, client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await executions.start(await publish(client, accepted_then_done()), "p")
    run = f"/api/v1/executions/{started.execution_id}"

    async with other_workspace(app) as theirs:
        await error(await theirs.get(run), 404, "EXECUTION_NOT_FOUND")
        accepted = await theirs.post(f"{run}/acceptance", json={"accepted": True})
        await error(accepted, 404, "EXECUTION_NOT_FOUND")
        assert (await theirs.get("/api/v1/executions")).json() == []
        assert (await theirs.get("/api/v1/executions?project_id=p")).json() == []


async def test_the_socket_refuses_as_towpaths_run_stream_does(
    app: FastAPI, client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    started = await executions.start(await publish(client, accepted_then_done()), "p")
    refusals = {
        "no-such-execution": (executions.headers, 4404),
        started.execution_id: ({}, 4401),
    }
    async with other_workspace(app) as theirs:
        their_key = {"Authorization": theirs.headers["Authorization"]}
        refusals[f"{started.execution_id}?"] = (their_key, 4404)
        for execution_id, (headers, code) in refusals.items():
            watcher = ExecutionsClient(executions.http, executions.ws_base, headers)
            async with watcher.events(execution_id.rstrip("?")) as stream:
                assert await stream.rest() == []
                assert stream.ws.close_code == code, execution_id


async def test_project_id_belongs_to_runs_in_towpaths_own_api(
    client: httpx.AsyncClient, executions: ExecutionsClient
) -> None:
    workflow_id = await publish(client, straight_through())
    own = await client.post(
        f"/api/v1/workflows/{workflow_id}/run", json={"input": {}, "project_id": "apollo"}
    )
    assert own.status_code == 201, own.text
    assert own.json()["project_id"] == "apollo"
    plain = (await client.post(f"/api/v1/workflows/{workflow_id}/run", json={})).json()
    assert plain["project_id"] is None
    theirs = await executions.start(workflow_id, "gemini")
    await wait_for(client, theirs.execution_id, "completed")

    listed = (await client.get("/api/v1/runs", params={"project_id": "apollo"})).json()
    assert [r["id"] for r in listed] == [own.json()["id"]]
    assert listed[0]["project_id"] == "apollo"
    gemini = (await client.get("/api/v1/runs", params={"project_id": "gemini"})).json()
    assert [r["id"] for r in gemini] == [theirs.execution_id]
    read = (await client.get(f"/api/v1/runs/{theirs.execution_id}")).json()
    assert read["project_id"] == "gemini"
    # The execution API shows a run started without a project with an empty one.
    assert (await executions.get(plain["id"])).project_id == ""
    refused = await client.post(f"/api/v1/workflows/{workflow_id}/run", json={"project_id": ""})
    assert refused.status_code == 422, refused.text


async def test_without_the_profile_its_paths_are_404_and_projects_still_work(
    settings: Settings, auth_headers: dict[str, str]
) -> None:
    app = create_app(settings.model_copy(update={"profiles": frozenset()}))
    async with app.router.lifespan_context(app):
        headers = await admin_headers(app)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://towpath.test", headers=headers
        ) as client:
            workflow_id = await publish(client, straight_through())
            gone = [
                await client.get("/api/v1/executions"),
                await client.get("/api/v1/executions/x"),
                await client.post(f"/api/v1/workflows/{workflow_id}/start", json={}),
                await client.post("/api/v1/executions/x/acceptance", json={"accepted": True}),
            ]
            assert [r.status_code for r in gone] == [404] * len(gone)
            run = await client.post(
                f"/api/v1/workflows/{workflow_id}/run", json={"project_id": "apollo"}
            )
            assert run.json()["project_id"] == "apollo"
            listed = (await client.get("/api/v1/runs?project_id=apollo")).json()
            assert [r["id"] for r in listed] == [run.json()["id"]]
            paths = app.openapi()["paths"]
            assert not [p for p in paths if "execution" in p or p.endswith("/start")]
