"""A result the worker cannot record fails its step, saying why; the worker goes on with
every other run. A step type that answers nonsense stands in for any such fault."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from towpath.auth.principal import Principal
from towpath.config import Settings
from towpath.domain.ids import new_id
from towpath.engine.runner import engine_running
from towpath.services import runs as run_service
from towpath.services.idempotency import IdempotencyPolicy
from towpath.steps.catalog import default_registry
from towpath.steps.registry import StepType
from towpath.storage.database import Database
from towpath.storage.models import Workflow
from towpath.storage.workspaces import ensure_workspace

if TYPE_CHECKING:
    from towpath.engine.runtime import Runtime
    from towpath.steps.execution import Outcome, StepContext


class NoConfig(BaseModel):
    pass


async def _nonsense(config: NoConfig, context: StepContext) -> Outcome:
    # A broken step type: the wrong return is what the worker must survive.
    return "not an outcome"  # type: ignore[return-value]


BROKEN = StepType(
    type="broken",
    label="Broken",
    description="Answers what no step may answer.",
    icon="bug",
    category="data",
    config_model=NoConfig,
    execute=_nonsense,
)


def _one(step_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": [{"id": "only", "type": step_type, "data": {"config": config}}], "edges": []}


async def _published(db: Database, definition: dict[str, Any]) -> tuple[Principal, str]:
    async with db.transaction() as session:
        workspace = await ensure_workspace(session)
        workflow_id = new_id()
        session.add(
            Workflow(
                id=workflow_id,
                workspace_id=workspace.id,
                lineage_id=workflow_id,
                name="faults",
                status="published",
                definition=definition,
                input_schema=None,
            )
        )
    return Principal("key:test", workspace.id, "admin"), workflow_id


async def _ended(runtime: Runtime, caller: Principal, run_id: str) -> dict[str, Any]:
    for _ in range(500):
        run, context = await run_service.get(runtime, caller, run_id)
        if run.status in ("completed", "failed"):
            return {"status": run.status, "error": run.error, "context": context}
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} did not end")


async def test_a_result_that_cannot_be_recorded_fails_its_step_and_nothing_else(
    database_url: str,
) -> None:
    registry = default_registry()
    registry.register(BROKEN)
    db = Database(database_url)
    policy = IdempotencyPolicy(ttl=timedelta(hours=24))
    try:
        caller, broken = await _published(db, _one("broken", {}))
        _, healthy = await _published(db, _one("transform", {"output": {"ok": True}}))
        settings = Settings(database_url=database_url)
        async with engine_running(db, registry, settings, with_worker=True) as runtime:
            bad, _, _ = await run_service.start(runtime, caller, broken, {}, None, policy)
            failed = await _ended(runtime, caller, bad.id)
            good, _, _ = await run_service.start(runtime, caller, healthy, {}, None, policy)
            completed = await _ended(runtime, caller, good.id)
    finally:
        await db.dispose()

    assert failed["status"] == "failed"
    assert "could not record the step's result" in failed["error"]
    assert completed == {"status": "completed", "error": None, "context": {"only": {"ok": True}}}
