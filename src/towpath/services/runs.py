"""Run use cases: start, read, answer the steps that wait, cancel, retry."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from towpath.engine import human
from towpath.engine.lifecycle import RunStateConflict, cancel_run, retry_run, start_run
from towpath.services.idempotency import IdempotencyRequest, create_once
from towpath.storage import runs as queries
from towpath.storage.workflows import get_workflow

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.engine.transition import RunTransaction
    from towpath.services.idempotency import IdempotencyPolicy
    from towpath.services.runtime import Runtime
    from towpath.storage.models import Run, RunEvent, RunLog, StepRun
    from towpath.storage.pagination import Page, PageRequest


async def start(
    runtime: Runtime,
    caller: Principal,
    workflow_id: str,
    run_input: dict[str, Any],
    key: IdempotencyRequest | None,
    policy: IdempotencyPolicy,
) -> tuple[Run, dict[str, Any], bool]:
    started: list[RunTransaction] = []

    async def create(session: AsyncSession) -> str:
        workflow = await get_workflow(session, caller.workspace_id, workflow_id)
        rt = await start_run(
            session,
            runtime.workflows,
            workflow,
            run_input,
            idempotency_key=key.key if key else None,
            created_by=caller.subject,
        )
        started.append(rt)
        return rt.run.id

    payload = {"input": run_input}
    created = await create_once(runtime.db, caller, key, payload, create, policy)
    runtime.announce(started)
    run, context = await get(runtime, caller, created.resource_id)
    return run, context, created.replayed


async def get(runtime: Runtime, caller: Principal, run_id: str) -> tuple[Run, dict[str, Any]]:
    async with runtime.db.read() as session:
        run = await queries.get_run(session, run_id, caller.workspace_id)
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
) -> Page[Run]:
    async with runtime.db.read() as session:
        return await queries.list_runs(
            session,
            caller.workspace_id,
            page,
            workflow_id=workflow_id,
            status=status,
            since=since,
            until=until,
        )


async def steps(runtime: Runtime, caller: Principal, run_id: str) -> list[StepRun]:
    async with runtime.db.read() as session:
        await queries.get_run(session, run_id, caller.workspace_id)
        return await queries.step_runs(session, run_id)


async def events(
    runtime: Runtime, caller: Principal, run_id: str, after: int, limit: int
) -> list[RunEvent]:
    async with runtime.db.read() as session:
        await queries.get_run(session, run_id, caller.workspace_id)
        return await queries.events_after(session, run_id, after, limit)


async def logs(
    runtime: Runtime, caller: Principal, run_id: str, after: int, limit: int
) -> list[RunLog]:
    async with runtime.db.read() as session:
        await queries.get_run(session, run_id, caller.workspace_id)
        return await queries.logs_after(session, run_id, after, limit)


async def approve(
    runtime: Runtime,
    caller: Principal,
    run_id: str,
    step_id: str | None,
    approved: bool,
    comment: str | None,
) -> Run:
    async with runtime.transition(run_id, caller.workspace_id) as rt:
        row = human.waiting_step(rt, step_id, "approval")
        prepared = await runtime.workflows.get(rt.session, rt.run.workflow_id)
        human.decide_approval(
            rt, row, prepared, approved=approved, comment=comment, decided_by=caller.subject
        )
        rt.advance(prepared.graph)
    return rt.run


async def clarify(
    runtime: Runtime, caller: Principal, run_id: str, step_id: str | None, answers: dict[str, Any]
) -> Run:
    async with runtime.transition(run_id, caller.workspace_id) as rt:
        row = human.waiting_step(rt, step_id, "clarification")
        prepared = await runtime.workflows.get(rt.session, rt.run.workflow_id)
        human.answer_questions(rt, row, prepared, answers, caller.subject)
        rt.advance(prepared.graph)
    return rt.run


async def resume(
    runtime: Runtime, caller: Principal, run_id: str, step_id: str | None, data: dict[str, Any]
) -> Run:
    async with runtime.transition(run_id, caller.workspace_id) as rt:
        row = human.waiting_step(rt, step_id, None)
        prepared = await runtime.workflows.get(rt.session, rt.run.workflow_id)
        human.resume_step(rt, row, data, caller.subject)
        rt.advance(prepared.graph)
    return rt.run


async def cancel(runtime: Runtime, caller: Principal, run_id: str, reason: str | None) -> Run:
    async with runtime.transition(run_id, caller.workspace_id) as rt:
        cancel_run(rt, reason)
    # Children are cancelled after the parent committed: locks are always taken child
    # first, parent second, so a parent must not hold its lock while taking a child's.
    pending = [run_id]
    while pending:
        async with runtime.db.read() as session:
            children = await queries.active_children(session, pending.pop())
        for child_id in children:
            with contextlib.suppress(RunStateConflict):
                async with runtime.transition(child_id, caller.workspace_id) as child:
                    cancel_run(child, f"parent run {run_id} was cancelled")
            pending.append(child_id)
    return rt.run


async def retry(runtime: Runtime, caller: Principal, run_id: str) -> Run:
    async with runtime.transition(run_id, caller.workspace_id) as rt:
        await retry_run(rt, runtime.workflows)
    return rt.run


async def post_event(
    runtime: Runtime, caller: Principal, name: str, key: str | None, data: dict[str, Any]
) -> list[str]:
    """Answer every wait_for_event step waiting for this name and key; their run ids."""
    async with runtime.db.read() as session:
        waiting = await queries.waiting_for_event(session, caller.workspace_id)
    matches = [
        row
        for row in waiting
        if isinstance(row.state, dict)
        and row.state.get("event_name") == name
        and row.state.get("key") == key
    ]
    answered = []
    for row in matches:
        async with runtime.transition(row.run_id, caller.workspace_id) as rt:
            current = rt.step(row.step_id)
            if current is None or current.status != "waiting":
                continue
            rt.emit("event.received", row.step_id, name=name, key=key)
            rt.complete_step(current, {"name": name, "key": key, "data": data})
            prepared = await runtime.workflows.get(rt.session, rt.run.workflow_id)
            rt.advance(prepared.graph)
            answered.append(row.run_id)
    return answered
