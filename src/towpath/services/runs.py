"""Run use cases: start, read, answer the steps that wait, cancel, retry."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from towpath.engine import approvals, human
from towpath.engine.bounds import admit_run
from towpath.engine.lifecycle import (
    cancel_run,
    retry_plan,
    retry_run,
    retry_target,
    start_run,
)
from towpath.engine.run_io import open_run
from towpath.engine.subruns import cancel_children, ended_runs
from towpath.services.audit import RunAction
from towpath.services.idempotency import complete_key_in_transition, create_once
from towpath.services.run_views import view_of
from towpath.storage import runs as queries
from towpath.storage.pagination import Page

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.results import Applied
    from towpath.engine.retry_plan import RetryPlan, RetryRequest
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.services.run_views import RunView
    from towpath.storage.models import RunEvent, RunLog
    from towpath.storage.pagination import PageRequest
    from towpath.storage.rows import RunRow

# A run's whole history is read this many events at a time.
EVENT_CHUNK = 1000


async def start(
    runtime: Runtime,
    caller: Principal,
    workflow_id: str,
    run_input: dict[str, Any],
    key: IdempotencyRequest | None,
    policy: IdempotencyPolicy,
    *,
    trigger_type: str = "manual",
    trigger_id: str | None = None,
    latest: bool = False,
    project_id: str | None = None,
) -> tuple[RunRow, dict[str, Any], bool]:
    """A run of `workflow_id`, or with `latest` of the newest published version of its
    lineage at this moment (how triggers that do not pin a version start runs), in the
    project `project_id` if one is named."""
    d = runtime.driver.dialect
    action = RunAction(caller, "run.start")

    async def create(key_id: str | None) -> str:
        continuation = runtime.continuation()

        def transition() -> Gen[tuple[RunTransaction, Applied]]:
            workflows = runtime.workflows
            if latest:
                workflow = yield from workflows.latest(d, workflow_id, caller.workspace_id)
            else:
                workflow = yield from workflows.get(d, workflow_id, caller.workspace_id)
            rt = yield from start_run(
                d,
                workflow,
                run_input,
                runtime.workflows.limits,
                trigger_type=trigger_type,
                trigger_id=trigger_id,
                idempotency_key=key.key if key else None,
                created_by=caller.subject,
                write=False,
            )
            # Not written yet (`write=False`): the run's first write carries it.
            rt.run.project_id = project_id
            applied = yield from runtime.carry_on([rt], continuation)
            if key_id is not None:
                yield from complete_key_in_transition(d, key_id, rt.run.id)
            yield from action.record(rt, None)
            return rt, applied

        rt, applied = await runtime.driver.run(transition)
        runtime.committed(applied)
        started.append(rt)
        # Runs its start cancelled to make room (on_full: cancel_oldest) take their
        # child runs with them, as any cancelled run does.
        ended = ended_runs(rt.followers)
        if ended:
            runtime.announce(await cancel_children(runtime.driver, ended))
        return rt.run.id

    started: list[RunTransaction] = []
    payload: dict[str, Any] = {"input": run_input}
    if project_id is not None:
        # A key sent again for another project is another request (422), not a replay.
        payload["project_id"] = project_id
    created = await create_once(runtime.db, caller, key, payload, create, policy)
    if started:
        # Just written: answer from what the transaction holds, not another query.
        return started[0].run, started[0].outputs(), False
    run, context = await get(runtime, caller, created.resource_id)
    return run, context, created.replayed


async def get(runtime: Runtime, caller: Principal, run_id: str) -> tuple[RunRow, dict[str, Any]]:
    return await runtime.db.reading(_run_and_outputs, run_id, caller.workspace_id)


async def _run_and_outputs(
    session: AsyncSession, run_id: str, workspace_id: str
) -> tuple[RunRow, dict[str, Any]]:
    run = await queries.get_run(session, run_id, workspace_id)
    return run, await queries.outputs(session, run_id)


async def list_runs(
    runtime: Runtime,
    caller: Principal,
    page: PageRequest,
    *,
    workflow_id: str | None,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    lineage_id: str | None = None,
    project_id: str | None = None,
) -> Page[RunRow]:
    return await runtime.db.reading(
        partial(
            queries.list_runs,
            workflow_id=workflow_id,
            status=status,
            since=since,
            until=until,
            lineage_id=lineage_id,
            project_id=project_id,
        ),
        caller.workspace_id,
        page,
    )


async def steps(runtime: Runtime, caller: Principal, run_id: str) -> Sequence[Row[Any]]:
    return await runtime.db.reading(_steps, run_id, caller.workspace_id)


async def _steps(session: AsyncSession, run_id: str, workspace_id: str) -> Sequence[Row[Any]]:
    await queries.get_run(session, run_id, workspace_id)
    return await queries.step_runs(session, run_id)


async def events(
    runtime: Runtime, caller: Principal, run_id: str, after: int, limit: int | None
) -> list[RunEvent]:
    """The run's events after `after`: at most `limit`, or with none, all of them (read
    a chunk at a time, in one snapshot)."""
    return await runtime.db.reading(_events, run_id, caller.workspace_id, after, limit)


async def _events(
    session: AsyncSession, run_id: str, workspace_id: str, after: int, limit: int | None
) -> list[RunEvent]:
    await queries.get_run(session, run_id, workspace_id)
    if limit is not None:
        return await queries.events_after(session, run_id, after, limit)
    found: list[RunEvent] = []
    while True:
        chunk = await queries.events_after(session, run_id, after, EVENT_CHUNK)
        found += chunk
        if len(chunk) < EVENT_CHUNK:
            return found
        after = chunk[-1].seq


async def logs(
    runtime: Runtime, caller: Principal, run_id: str, after: int, limit: int
) -> list[RunLog]:
    return await runtime.db.reading(_logs, run_id, caller.workspace_id, after, limit)


async def _logs(
    session: AsyncSession, run_id: str, workspace_id: str, after: int, limit: int
) -> list[RunLog]:
    await queries.get_run(session, run_id, workspace_id)
    return await queries.logs_after(session, run_id, after, limit)


async def approve(
    runtime: Runtime,
    caller: Principal,
    run_id: str,
    step_id: str | None,
    approved: bool,
    comment: str | None,
) -> tuple[RunRow, dict[str, Any]]:
    def change(rt: RunTransaction, prepared: PreparedWorkflow) -> None:
        row = human.waiting_step(rt, step_id, "approval")
        approvals.check_voter(row, caller.subject, caller.has_role, rt.run.created_by)
        approvals.vote(rt, row, prepared, approved=approved, comment=comment, by=caller.subject)
        rt.advance(prepared.graph)

    action = RunAction(caller, "run.approve", {"step_id": step_id, "approved": approved})
    return _answer(await runtime.change_run(run_id, caller.workspace_id, change, action))


async def clarify(
    runtime: Runtime, caller: Principal, run_id: str, step_id: str | None, answers: dict[str, Any]
) -> tuple[RunRow, dict[str, Any]]:
    def change(rt: RunTransaction, prepared: PreparedWorkflow) -> None:
        row = human.waiting_step(rt, step_id, "clarification")
        human.answer_questions(rt, row, prepared, answers, caller.subject)
        rt.advance(prepared.graph)

    action = RunAction(caller, "run.clarify", {"step_id": step_id})
    return _answer(await runtime.change_run(run_id, caller.workspace_id, change, action))


async def resume(
    runtime: Runtime, caller: Principal, run_id: str, step_id: str | None, data: dict[str, Any]
) -> tuple[RunRow, dict[str, Any]]:
    def change(rt: RunTransaction, prepared: PreparedWorkflow) -> None:
        row = human.waiting_step(rt, step_id, None)
        human.resume_step(rt, row, prepared, data, caller.subject, caller.has_role)
        rt.advance(prepared.graph)

    action = RunAction(caller, "run.resume", {"step_id": step_id})
    return _answer(await runtime.change_run(run_id, caller.workspace_id, change, action))


async def cancel(
    runtime: Runtime, caller: Principal, run_id: str, reason: str | None
) -> tuple[RunRow, dict[str, Any]]:
    cancelled = await runtime.change_run(
        run_id,
        caller.workspace_id,
        lambda rt, _: cancel_run(rt, reason),
        RunAction(caller, "run.cancel", {"reason": reason}),
    )
    return _answer(cancelled)


async def retry(
    runtime: Runtime, caller: Principal, run_id: str, request: RetryRequest
) -> tuple[RunRow, dict[str, Any]]:
    d = runtime.driver.dialect

    def change(rt: RunTransaction, prepared: PreparedWorkflow) -> Gen[None]:
        target = yield from retry_target(d, runtime.workflows, rt.run, prepared, request.to_latest)
        yield from retry_run(rt, prepared, runtime.workflows.limits, target, request)

    action = RunAction(caller, "run.retry", _retry_details(request))
    return _answer(await runtime.change_run(run_id, caller.workspace_id, change, action))


async def plan_retry(
    runtime: Runtime, caller: Principal, run_id: str, request: RetryRequest
) -> tuple[RunRow, str, RetryPlan]:
    """What `retry` would do: the run, the version it would run on, the plan. Refused as
    `retry` refuses it; nothing is written."""
    d = runtime.driver.dialect

    def read() -> Gen[tuple[RunRow, str, RetryPlan]]:
        rt = yield from open_run(d, run_id, caller.workspace_id)
        prepared = yield from runtime.workflows.get(d, rt.run.workflow_id)
        target = yield from retry_target(d, runtime.workflows, rt.run, prepared, request.to_latest)
        plan = retry_plan(rt, prepared, target, request)
        yield from admit_run(d, target, runtime.workflows.limits, None)
        return rt.run, target.workflow_id, plan

    return await runtime.driver.run(read)


def _retry_details(request: RetryRequest) -> dict[str, Any]:
    """What the audit trail keeps of a retry: which overrides, not their values (the
    run's `run.retried` event holds those)."""
    if request.plain and not request.overrides():
        return {}
    return {
        "from_step": request.from_step,
        "to_latest": request.to_latest,
        "input_overridden": request.run_input is not None,
        "steps_overridden": sorted(request.step_inputs),
    }


def _answer(rt: RunTransaction) -> tuple[RunRow, dict[str, Any]]:
    """The run as the transition left it, answered without another query (or race)."""
    return rt.run, rt.outputs()


async def list_views(
    runtime: Runtime,
    caller: Principal,
    page: PageRequest,
    *,
    workflow_id: str | None,
    status: str | None,
    project_id: str | None,
    waiting_on: str | None = None,
    not_waiting_on: tuple[str, ...] = (),
) -> Page[RunView]:
    """A page of runs, each with its steps now (as `GET /runs/{id}` shows one run), read in
    one session. A list's view counts no progress: it leaves the graphs unread."""
    async with runtime.db.read() as session:
        found = await queries.list_runs(
            session,
            caller.workspace_id,
            page,
            workflow_id=workflow_id,
            status=status,
            project_id=project_id,
            waiting_on=waiting_on,
            not_waiting_on=not_waiting_on,
        )
        views = [
            view_of(run, await queries.step_glances(session, run.id), 0) for run in found.items
        ]
    return Page(views, found.total, found.exact)
