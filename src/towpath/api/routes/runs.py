"""Runs: start, read, answer waiting steps, cancel, retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from towpath.api.control_keys import OnceKey, answer_once
from towpath.api.deps import Idempotency, Operator, Rules, RuntimeDep, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.links import created_or_replayed, described, links
from towpath.api.schemas.runs import (
    SEQ_MAX,
    ApproveInput,
    CancelInput,
    CancelledRun,
    ClarifyInput,
    ResumeInput,
    RetryInput,
    RetryPlanResponse,
    RunEventResponse,
    RunInput,
    RunLogResponse,
    RunResponse,
    RunStatus,
    RunSummary,
    RunTreeCancelResponse,
    StepRunResponse,
    retry_plan_response,
    run_response,
    run_summary,
    run_view_response,
    step_run_response,
)
from towpath.api.schemas.strict import MOMENT_RULE, Moment, QueryBoolean
from towpath.services import run_trees, run_views
from towpath.services import runs as service
from towpath.services.idempotency import one_key
from towpath.storage.pagination import PageRequest
from towpath.storage.runs import SORTABLE

router = APIRouter(tags=["runs"])
After = Annotated[
    int, Query(ge=0, le=SEQ_MAX, description="Only what comes after this sequence number")
]
Limit = Annotated[int, Query(ge=1, le=1000)]
EventLimit = Annotated[int | None, Query(ge=1, le=1000, description="At most this many events")]
Since = Annotated[Moment | None, Query(description=f"Created at or after this: {MOMENT_RULE}")]
Until = Annotated[Moment | None, Query(description=f"Created before this: {MOMENT_RULE}")]
RunPages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]
WorkflowVersion = Annotated[
    str | None, Query(description="Only the runs of this one version of a workflow")
]
Lineage = Annotated[
    str | None,
    Query(
        description="Only the runs of every version of one workflow: its lineage id, the"
        " id of its version 1 (`lineage_id` of any version)"
    ),
]
Project = Annotated[str | None, Query(description="Only the runs started for this project")]

# What a client does next with a run it holds.
RUN_LINKS = links(
    "run_id",
    "get_run",
    "list_run_steps",
    "list_run_events",
    "list_run_logs",
    "get_run_metrics",
    "approve_run",
    "clarify_run",
    "resume_run",
    "cancel_run",
    "retry_run",
)
STARTED: Responses = created_or_replayed(
    "The run, started",
    "The run an earlier request with this idempotency key started",
    RunResponse,
    RUN_LINKS,
)
# Answering or changing a run: it may be in a state that does not allow it. Sent again
# with the same X-Idempotency-Key and body, the first answer comes back.
ACTION: Responses = {
    200: described("The run after the change", with_links=RUN_LINKS),
    **errors(404, 409),
}
RETRY: Responses = {
    200: described(
        "The run after the change; with `?dry_run=true`, the plan (RetryPlanResponse)",
        with_links=RUN_LINKS,
    ),
    **errors(404, 409),
}
DryRun = Annotated[
    QueryBoolean,
    Query(description="Answer which steps would run again and which keep their output"),
]


@router.post(
    "/workflows/{workflow_id}/run",
    status_code=201,
    responses={**STARTED, **WITH_BODY, **errors(404, 409)},
)
async def start_run(
    workflow_id: str,
    body: RunInput,
    runtime: RuntimeDep,
    caller: Operator,
    rules: Rules,
    key: Idempotency,
    response: Response,
) -> RunResponse:
    key = one_key(key, body.idempotency_key, f"POST /api/v1/workflows/{workflow_id}/run")
    run, context, replayed = await service.start(
        runtime, caller, workflow_id, body.input, key, rules.idempotency, project_id=body.project_id
    )
    mark_created(response, replayed)
    return run_response(run, context)


@router.get("/runs", responses=LISTED)
async def list_runs(
    runtime: RuntimeDep,
    caller: Viewer,
    page: RunPages,
    response: Response,
    workflow_id: WorkflowVersion = None,
    status: RunStatus | None = None,
    since: Since = None,
    until: Until = None,
    lineage_id: Lineage = None,
    project_id: Project = None,
) -> list[RunSummary]:
    found = await service.list_runs(
        runtime,
        caller,
        page,
        workflow_id=workflow_id,
        status=status,
        since=since,
        until=until,
        lineage_id=lineage_id,
        project_id=project_id,
    )
    set_total(response, found)
    return [run_summary(run) for run in found.items]


@router.get("/runs/{run_id}", responses=errors(404))
async def get_run(run_id: str, runtime: RuntimeDep, caller: Viewer) -> RunResponse:
    return run_view_response(await run_views.run_view(runtime, caller, run_id))


@router.get("/runs/{run_id}/steps", responses=errors(404))
async def list_run_steps(run_id: str, runtime: RuntimeDep, caller: Viewer) -> list[StepRunResponse]:
    return [step_run_response(row) for row in await service.steps(runtime, caller, run_id)]


@router.get("/runs/{run_id}/events", responses=errors(404))
async def list_run_events(
    run_id: str, runtime: RuntimeDep, caller: Viewer, after: After = 0, limit: EventLimit = None
) -> list[RunEventResponse]:
    """The run's events in order; without `limit`, every one (the whole history to replay)."""
    found = await service.events(runtime, caller, run_id, after, limit)
    return [RunEventResponse.model_validate(event) for event in found]


@router.get("/runs/{run_id}/logs", responses=errors(404))
async def list_run_logs(
    run_id: str, runtime: RuntimeDep, caller: Viewer, after: After = 0, limit: Limit = 1000
) -> list[RunLogResponse]:
    found = await service.logs(runtime, caller, run_id, after, limit)
    return [RunLogResponse.model_validate(line) for line in found]


@router.post("/runs/{run_id}/resume", responses={**ACTION, **WITH_BODY})
async def resume_run(
    run_id: str,
    runtime: RuntimeDep,
    caller: Operator,
    key: OnceKey,
    body: ResumeInput | None = None,
) -> RunResponse:
    """Answer the run's waiting step with `data`; with no body, the one waiting step is
    answered with none (an approval is approved)."""
    body = body or ResumeInput()
    return await answer_once(
        key, run_id, body, service.resume, runtime, caller, run_id, body.step_id, body.data
    )


@router.post("/runs/{run_id}/approve", responses={**ACTION, **WITH_BODY})
async def approve_run(
    run_id: str, body: ApproveInput, runtime: RuntimeDep, caller: Operator, key: OnceKey
) -> RunResponse:
    return await answer_once(
        key,
        run_id,
        body,
        service.approve,
        runtime,
        caller,
        run_id,
        body.step_id,
        body.approved,
        body.comment,
    )


@router.post("/runs/{run_id}/clarify", responses={**ACTION, **WITH_BODY})
async def clarify_run(
    run_id: str, body: ClarifyInput, runtime: RuntimeDep, caller: Operator, key: OnceKey
) -> RunResponse:
    return await answer_once(
        key, run_id, body, service.clarify, runtime, caller, run_id, body.step_id, body.answers
    )


@router.post("/runs/{run_id}/cancel", responses={**ACTION, **WITH_BODY})
async def cancel_run(
    run_id: str,
    runtime: RuntimeDep,
    caller: Operator,
    key: OnceKey,
    body: CancelInput | None = None,
) -> RunResponse:
    body = body or CancelInput()
    return await answer_once(
        key, run_id, body, service.cancel, runtime, caller, run_id, body.reason
    )


@router.post("/runs/{run_id}/retry", responses={**RETRY, **WITH_BODY})
async def retry_run(
    run_id: str,
    runtime: RuntimeDep,
    caller: Operator,
    key: OnceKey,
    body: RetryInput | None = None,
    dry_run: DryRun = False,
) -> RunResponse | RetryPlanResponse:
    """Run a run's steps again: its failed steps, or from `from_step` on, with
    `input_overrides` and on the newest version (`to_latest`) if asked. With
    `?dry_run=true` the answer is the plan, and nothing changes."""
    body = body or RetryInput()
    request = body.request()
    if dry_run:
        plan = await service.plan_retry(runtime, caller, run_id, request)
        return retry_plan_response(*plan, request)
    return await answer_once(key, run_id, body, service.retry, runtime, caller, run_id, request)


@router.post("/runs/{run_id}/cancel-tree", responses={**errors(404), **WITH_BODY})
async def cancel_run_tree(
    run_id: str, runtime: RuntimeDep, caller: Operator, body: CancelInput | None = None
) -> RunTreeCancelResponse:
    """Cancel the run and every run below it, including runs started with `wait: false`.
    A run that already ended is left as it is (200, not 409), and the live runs it
    started are cancelled all the same."""
    done = await run_trees.cancel_tree(runtime, caller, run_id, body.reason if body else None)
    return RunTreeCancelResponse(
        run=run_response(done.run, done.context),
        cancelled=[CancelledRun.model_validate(run) for run in done.cancelled],
    )
