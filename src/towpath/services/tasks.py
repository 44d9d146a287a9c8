"""Tasks of the `tasks` seed profile: a task is a workflow lineage, made from the built-in
task workflow or an existing one, and its runs are that lineage's runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.services import runs, workflows
from towpath.services.task_template import INPUT_SCHEMA, task_definition
from towpath.storage import tasks as queries
from towpath.storage.models import Task
from towpath.storage.runs import get_run

if TYPE_CHECKING:
    from collections.abc import Sequence

    from towpath.auth.principal import Principal
    from towpath.engine.runtime import Runtime
    from towpath.services.workflows import WorkflowRules
    from towpath.storage.database import Database
    from towpath.storage.models import RunLog
    from towpath.storage.rows import RunRow
    from towpath.storage.tasks import TaskView


async def create_task(
    db: Database,
    caller: Principal,
    rules: WorkflowRules,
    fields: dict[str, Any],
    workflow_id: str | None,
) -> TaskView:
    """A task over `workflow_id`'s lineage, or over a new published workflow made from the
    template."""
    if workflow_id is None:
        made = {
            "name": fields["name"],
            "description": fields.get("description", ""),
            "definition": task_definition(),
            "input_schema": INPUT_SCHEMA,
        }
        draft, _ = await workflows.create_workflow(db, caller, made, rules)
        workflow = await workflows.publish_workflow(db, caller, draft.id, rules)
    else:
        workflow = await workflows.get_workflow(db, caller, workflow_id)
    async with db.transaction() as session:
        task = Task(id=workflow.lineage_id, workspace_id=caller.workspace_id, **fields)
        await queries.add_task(session, task)
        return await queries.task_view(session, caller.workspace_id, task.id)


async def get_task(db: Database, caller: Principal, task_id: str) -> TaskView:
    async with db.read() as session:
        return await queries.task_view(session, caller.workspace_id, task_id)


async def list_tasks(
    db: Database, caller: Principal, skip: int, limit: int, statuses: Sequence[str]
) -> tuple[list[TaskView], int]:
    async with db.read() as session:
        return await queries.list_tasks(session, caller.workspace_id, skip, limit, statuses)


async def update_task(
    db: Database, caller: Principal, task_id: str, changes: dict[str, Any]
) -> TaskView:
    async with db.transaction() as session:
        task = await queries.get_task(session, caller.workspace_id, task_id, for_update=True)
        for name, value in changes.items():
            setattr(task, name, value)
        await session.flush()
        return await queries.task_view(session, caller.workspace_id, task_id)


async def delete_task(db: Database, caller: Principal, task_id: str) -> None:
    """Forget the task; its workflow and runs stay, as any workflow's do."""
    async with db.transaction() as session:
        task = await queries.get_task(session, caller.workspace_id, task_id, for_update=True)
        await session.delete(task)


async def start_task_run(
    runtime: Runtime, caller: Principal, rules: WorkflowRules, task_id: str
) -> tuple[RunRow, dict[str, Any]]:
    """A run of the task's newest published version. A workflow made from the template
    takes the task's description and round limit as input; another takes none."""
    async with runtime.db.read() as session:
        task = await queries.get_task(session, caller.workspace_id, task_id)
    workflow = await workflows.get_workflow(runtime.db, caller, task_id)
    properties = (workflow.input_schema or {}).get("properties", {})
    given = {"description": task.description, "max_rounds": task.max_rounds}
    run_input = {name: value for name, value in given.items() if name in properties}
    run, context, _ = await runs.start(
        runtime, caller, task_id, run_input, None, rules.idempotency, latest=True
    )
    return run, context


async def list_task_runs(
    db: Database, caller: Principal, skip: int, limit: int, task_id: str | None
) -> tuple[list[RunRow], int]:
    async with db.read() as session:
        if task_id is not None:
            await queries.get_task(session, caller.workspace_id, task_id)
        return await queries.list_task_runs(session, caller.workspace_id, skip, limit, task_id)


async def run_logs(
    db: Database, caller: Principal, run_id: str, skip: int, limit: int
) -> tuple[list[RunLog], int]:
    async with db.read() as session:
        await get_run(session, run_id, caller.workspace_id)
        return await queries.run_logs(session, run_id, skip, limit)
