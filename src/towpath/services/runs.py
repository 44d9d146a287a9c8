"""Run use cases: start, read, answer the steps that wait, cancel, retry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.engine import human
from towpath.engine.lifecycle import (
    cancel_run,
    retry_run,
    start_run,
)
from towpath.services.audit import RunAction
from towpath.services.idempotency import complete_key_in_transition, create_once
from towpath.storage import runs as queries

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.auth.principal import Principal
    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.results import Applied
    from towpath.engine.runtime import Runtime
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.models import RunEvent, RunLog, StepRun
    from towpath.storage.pagination import Page, PageRequest
    from towpath.storage.rows import RunRow


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
) -> tuple[RunRow, dict[str, Any], bool]:
    """A run of `workflow_id`, or with `latest` of the newest published version of its
    lineage at this moment (how triggers that do not pin a version start runs)."""
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
            applied = yield from runtime.carry_on([rt], continuation)
            if key_id is not None:
                yield from complete_key_in_transition(d, key_id, rt.run.id)
            yield from action.record(rt, None)
            return rt, applied

        rt, applied = await runtime.driver.run(transition)
        runtime.committed(applied)
        started.append(rt)
        return rt.run.id

    started: list[RunTransaction] = []
    payload = {"input": run_input}
    created = await create_once(runtime.db, caller, key, payload, create, policy)
    if started:
        # Just written: answer from what the transaction holds, not another query.
        return started[0].run, started[0].outputs(), False
    run, context = await get(runtime, caller, created.resource_id)
    return run, context, created.replayed


async def get(runtime: Runtime, caller: Principal, run_id: str) -> tuple[RunRow, dict[str, Any]]:
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
    lineage_id: str | None = None,
) -> Page[RunRow]:
    async with runtime.db.read() as session:
        return await queries.list_runs(
            session,
            caller.workspace_id,
            page,
            workflow_id=workflow_id,
            status=status,
            since=since,
            until=until,
            lineage_id=lineage_id,
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
) -> tuple[RunRow, dict[str, Any]]:
    def change(rt: RunTransaction, prepared: PreparedWorkflow) -> None:
        row = human.waiting_step(rt, step_id, "approval")
        human.check_approver(row, caller.subject, caller.has_role)
        human.decide_approval(
            rt, row, prepared, approved=approved, comment=comment, decided_by=caller.subject
        )
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


async def retry(runtime: Runtime, caller: Principal, run_id: str) -> tuple[RunRow, dict[str, Any]]:
    action = RunAction(caller, "run.retry")
    return _answer(await runtime.change_run(run_id, caller.workspace_id, retry_run, action))


def _answer(rt: RunTransaction) -> tuple[RunRow, dict[str, Any]]:
    """The run as the transition left it, answered without another query (or race)."""
    return rt.run, rt.outputs()
