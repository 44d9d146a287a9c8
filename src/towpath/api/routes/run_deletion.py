"""Deleting a finished run, with the runs it started and all they hold."""

from __future__ import annotations

from fastapi import APIRouter, Response

from towpath.api.deps import Admin, RuntimeDep
from towpath.api.schemas.errors import errors
from towpath.services import run_deletion as service

router = APIRouter(tags=["runs"])


@router.delete("/runs/{run_id}", status_code=204, responses=errors(404, 409))
async def delete_run(run_id: str, runtime: RuntimeDep, caller: Admin) -> Response:
    """Only a finished run (completed, failed, cancelled) whose sub-runs all ended: it goes
    with them, their steps, events, logs and queue tasks (409 INVALID_RUN_STATE while any
    is in flight, nothing deleted). The audit log keeps an entry saying so."""
    await service.delete_run(runtime, caller, run_id)
    return Response(status_code=204)
