"""Workflow use cases: drafts, validation, publishing, versions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from towpath.domain.clock import utcnow
from towpath.domain.errors import (
    DefinitionOverLimit,
    DefinitionTooLarge,
    PublishedWorkflowNotDeletable,
    WorkflowInvalid,
    WorkflowNotPublished,
    WorkflowPublished,
)
from towpath.domain.ids import new_id
from towpath.domain.validation import (
    DefinitionError,
    DefinitionLimits,
    check_size,
    validate_definition,
)
from towpath.services.agent_references import missing_agents
from towpath.services.audit import Change, record
from towpath.services.idempotency import complete_key, create_once, fingerprint
from towpath.services.workflow_cycles import SubWorkflowCycle, find_loop
from towpath.storage import workflows as queries
from towpath.storage.models import Workflow
from towpath.storage.secrets_store import secret_names

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.domain.step_spec import StepSpec
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest


@dataclass(frozen=True)
class WorkflowRules:
    """What the workflow service needs to judge a definition."""

    specs: Mapping[str, StepSpec]
    limits: DefinitionLimits
    idempotency: IdempotencyPolicy
    # Off, a workflow that starts its own lineage again is refused at publish.
    allow_recursion: bool = False


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    errors: list[DefinitionError]


def audited(workflow: Workflow) -> dict[str, Any]:
    """A workflow as the audit log keeps it: its definition by digest and size, since a
    definition may be a megabyte and every version of it is kept anyway."""
    definition = workflow.definition or {}
    return {
        "name": workflow.name,
        "description": workflow.description,
        "version": workflow.version,
        "status": workflow.status,
        "paused": bool(workflow.paused),
        "input_schema": workflow.input_schema,
        "definition_sha256": fingerprint("definition", definition),
        "nodes": len(definition.get("nodes", [])),
        "edges": len(definition.get("edges", [])),
    }


def _check_size(definition: dict[str, Any], rules: WorkflowRules) -> None:
    error = check_size(definition, rules.limits)
    if error is None:
        return
    cls = DefinitionTooLarge if error.code == "definition_too_large" else DefinitionOverLimit
    limits = rules.limits
    # The number that was passed: bytes, nodes or edges, as `reason` says.
    limit = {
        "definition_too_large": limits.max_bytes,
        "too_many_nodes": limits.max_nodes,
        "too_many_edges": limits.max_edges,
    }.get(error.code)
    raise cls(error.message, details={"reason": error.code, "limit": limit})


async def create_workflow(
    db: Database,
    caller: Principal,
    fields: dict[str, Any],
    rules: WorkflowRules,
    idempotency: IdempotencyRequest | None = None,
) -> tuple[Workflow, bool]:
    """A new draft (version 1 of a new lineage); the bool says it was an earlier result."""
    _check_size(fields["definition"], rules)

    async def insert(key_id: str | None) -> str:
        workflow_id = new_id()
        workflow = Workflow(
            id=workflow_id,
            workspace_id=caller.workspace_id,
            lineage_id=workflow_id,
            version=1,
            status="draft",
            created_by=caller.subject,
            **fields,
        )
        async with db.transaction() as session:
            await queries.add_workflow(session, workflow)
            await complete_key(session, key_id, workflow_id)
            change = Change("workflow.create", "workflow", workflow_id, None, audited(workflow))
            await record(session, caller, change)
        return workflow_id

    created = await create_once(db, caller, idempotency, fields, insert, rules.idempotency)
    return await get_workflow(db, caller, created.resource_id), created.replayed


async def get_workflow(db: Database, caller: Principal, workflow_id: str) -> Workflow:
    return await db.reading(queries.get_workflow, caller.workspace_id, workflow_id)


async def list_workflows(
    db: Database, caller: Principal, page: PageRequest, status: str | None
) -> Page[Workflow]:
    return await db.reading(
        partial(queries.list_workflows, status=status), caller.workspace_id, page
    )


async def update_workflow(
    db: Database, caller: Principal, workflow_id: str, changes: dict[str, Any], rules: WorkflowRules
) -> Workflow:
    """Change a draft in place. A published version stays frozen: the change makes the
    lineage's next version, a draft, which is returned. That version starts from the
    lineage's newest one, so a client saving twice to the published id it holds keeps
    both saves."""
    if "definition" in changes:
        _check_size(changes["definition"], rules)
    async with db.transaction() as session:
        workflow = await queries.get_workflow(
            session, caller.workspace_id, workflow_id, for_update=True
        )
        if workflow.status != "draft":
            # In turn with other new versions; what was saved since (a draft an earlier
            # change made) is the starting point, so no save is lost.
            await queries.lock_lineage(session, workflow.lineage_id)
            newest = await queries.newest_version(session, caller.workspace_id, workflow.lineage_id)
            copy = await _next_version(session, caller, newest, changes)
            after = {**audited(copy), "versioned_from": workflow.id}
            change = Change("workflow.update", "workflow", copy.id, None, after)
            await record(session, caller, change)
            return copy
        before = audited(workflow)
        for name, value in changes.items():
            setattr(workflow, name, value)
        workflow.updated_at = utcnow()
        await session.flush()
        change = Change("workflow.update", "workflow", workflow_id, before, audited(workflow))
        await record(session, caller, change)
        return workflow


async def delete_workflow(db: Database, caller: Principal, workflow_id: str) -> None:
    async with db.transaction() as session:
        workflow = await queries.get_workflow(
            session, caller.workspace_id, workflow_id, for_update=True
        )
        if workflow.status != "draft":
            raise PublishedWorkflowNotDeletable(workflow_id)
        workflow.deleted_at = utcnow()
        change = Change("workflow.delete", "workflow", workflow_id, audited(workflow), None)
        await record(session, caller, change)


def judge(
    workflow: Workflow, rules: WorkflowRules, secrets: frozenset[str] | None = None
) -> ValidationResult:
    errors = validate_definition(
        workflow.definition,
        rules.specs,
        input_schema=workflow.input_schema,
        limits=rules.limits,
        secrets=secrets,
    )
    return ValidationResult(valid=not errors, errors=errors)


async def _agents_named(
    session: AsyncSession, workspace_id: str, workflow: Workflow, result: ValidationResult
) -> ValidationResult:
    """The result, with an error for each agent step naming an agent not registered."""
    missing = await missing_agents(session, workspace_id, workflow.definition)
    if not missing:
        return result
    return ValidationResult(valid=False, errors=[*result.errors, *missing])


async def validate_workflow(
    db: Database, caller: Principal, workflow_id: str, rules: WorkflowRules
) -> ValidationResult:
    async with db.read() as session:
        workflow = await queries.get_workflow(session, caller.workspace_id, workflow_id)
        result = judge(workflow, rules, await secret_names(session, caller.workspace_id))
        result = await _agents_named(session, caller.workspace_id, workflow, result)
        loop = None if rules.allow_recursion else await find_loop(session, workflow)
    if loop is None:
        return result
    return ValidationResult(valid=False, errors=[*result.errors, loop.issue()])


async def publish_workflow(
    db: Database, caller: Principal, workflow_id: str, rules: WorkflowRules
) -> Workflow:
    async with db.transaction() as session:
        workflow = await queries.get_workflow(
            session, caller.workspace_id, workflow_id, for_update=True
        )
        if workflow.status != "draft":
            raise WorkflowPublished(workflow_id)
        result = judge(workflow, rules, await secret_names(session, caller.workspace_id))
        result = await _agents_named(session, caller.workspace_id, workflow, result)
        if not result.valid:
            raise WorkflowInvalid([error.to_dict() for error in result.errors])
        loop = None if rules.allow_recursion else await find_loop(session, workflow)
        if loop is not None:
            raise SubWorkflowCycle(loop)
        before = audited(workflow)
        now = utcnow()
        workflow.status = "published"
        workflow.published_at = now
        workflow.updated_at = now
        await session.flush()
        change = Change("workflow.publish", "workflow", workflow_id, before, audited(workflow))
        await record(session, caller, change)
        return workflow


async def duplicate_workflow(
    db: Database,
    caller: Principal,
    workflow_id: str,
    rules: WorkflowRules,
    idempotency: IdempotencyRequest | None = None,
) -> tuple[Workflow, bool]:
    """A new draft of the same workflow, numbered after the lineage's latest version."""

    async def insert(key_id: str | None) -> str:
        async with db.transaction() as session:
            return await _insert_copy(session, key_id)

    async def _insert_copy(session: AsyncSession, key_id: str | None) -> str:
        source = await queries.get_workflow(session, caller.workspace_id, workflow_id)
        copy = await _next_version(session, caller, source, {})
        await complete_key(session, key_id, copy.id)
        after = {**audited(copy), "duplicated_from": source.id}
        await record(
            session, caller, Change("workflow.duplicate", "workflow", copy.id, None, after)
        )
        return copy.id

    payload = {"duplicate": workflow_id}
    created = await create_once(db, caller, idempotency, payload, insert, rules.idempotency)
    return await get_workflow(db, caller, created.resource_id), created.replayed


async def _next_version(
    session: AsyncSession, caller: Principal, source: Workflow, changes: dict[str, Any]
) -> Workflow:
    """A new draft of the source's lineage, numbered after its latest version, with the
    changes applied."""
    # New versions of one workflow take turns, so each reads the number the one before took.
    await queries.lock_lineage(session, source.lineage_id)
    fields = {
        "name": source.name,
        "description": source.description,
        "definition": source.definition,
        "input_schema": source.input_schema,
        **changes,
    }
    copy = Workflow(
        id=new_id(),
        workspace_id=caller.workspace_id,
        lineage_id=source.lineage_id,
        version=await queries.next_version(session, source.lineage_id),
        status="draft",
        created_by=caller.subject,
        # Pausing is the lineage's: a new version of a paused workflow is paused too.
        paused=source.paused,
        **fields,
    )
    return await queries.add_workflow(session, copy)


async def list_versions(
    db: Database, caller: Principal, workflow_id: str, page: PageRequest
) -> Page[Workflow]:
    return await db.reading(_versions, caller.workspace_id, workflow_id, page)


async def _versions(
    session: AsyncSession, workspace_id: str, workflow_id: str, page: PageRequest
) -> Page[Workflow]:
    workflow = await queries.get_workflow(session, workspace_id, workflow_id)
    return await queries.list_versions(session, workspace_id, workflow.lineage_id, page)


async def set_paused(db: Database, caller: Principal, workflow_id: str, paused: bool) -> Workflow:
    """Pause (or unpause) a workflow: every version of it. A paused workflow starts no run,
    whatever asks (a person, a trigger, a parent run's sub_workflow step): each new run
    waits, pending with the reason, and workers start those the workflow's flow control
    allows at their next poll after the unpause (`engine.admission`). Runs already
    started go on, and can be cancelled with their tree."""
    async with db.transaction() as session:
        workflow = await queries.get_workflow(
            session, caller.workspace_id, workflow_id, for_update=True
        )
        # Versions made meanwhile (by duplicating one) take turns with this on the lineage.
        await queries.lock_lineage(session, workflow.lineage_id)
        if workflow.paused == paused:
            return workflow
        before = audited(workflow)
        await queries.set_lineage_paused(session, caller.workspace_id, workflow.lineage_id, paused)
        after = {**audited(workflow), "lineage_id": workflow.lineage_id}
        action = "workflow.pause" if paused else "workflow.unpause"
        await record(session, caller, Change(action, "workflow", workflow_id, before, after))
        return workflow


async def set_archived(
    db: Database, caller: Principal, workflow_id: str, archived: bool
) -> Workflow:
    """Archive (or unarchive) one published version: archived, it starts no run, whatever
    asks; its runs already started go on, and it is still read and listed."""
    async with db.transaction() as session:
        workflow = await queries.get_workflow(
            session, caller.workspace_id, workflow_id, for_update=True
        )
        if workflow.status != "published":
            raise WorkflowNotPublished(workflow_id, workflow.status)
        if (workflow.archived_at is not None) == archived:
            return workflow
        before = {**audited(workflow), "archived_at": _moment(workflow.archived_at)}
        workflow.archived_at = utcnow() if archived else None
        await session.flush()
        after = {**audited(workflow), "archived_at": _moment(workflow.archived_at)}
        action = "workflow.archive" if archived else "workflow.unarchive"
        await record(session, caller, Change(action, "workflow", workflow_id, before, after))
        return workflow


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
