"""Pausing a run: no new step starts until it is unpaused."""

from __future__ import annotations

from fastapi import APIRouter

from towpath.api.control_keys import OnceKey, answer_once
from towpath.api.deps import Operator, RuntimeDep
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.api.schemas.links import described
from towpath.api.schemas.runs import RunResponse

# A run's pause takes the body a schedule's does: an optional reason.
from towpath.api.schemas.schedules import PauseInput
from towpath.api.schemas.strict import RequestModel
from towpath.services import run_pauses as service

router = APIRouter(tags=["runs"])
_NO_BODY = RequestModel()
# A run in another state, or a key still in use, is a 409; a key reused otherwise, 422.
ACTION = {200: described("The run after the change"), **errors(404, 409, 422)}


@router.post("/runs/{run_id}/pause", responses={**ACTION, **WITH_BODY})
async def pause_run(
    run_id: str, runtime: RuntimeDep, caller: Operator, key: OnceKey, body: PauseInput | None = None
) -> RunResponse:
    """Steps in flight finish and are recorded; the steps they make ready, and timers that
    fall due, wait for the unpause. Runs the run started go on."""
    body = body or PauseInput()
    return await answer_once(key, run_id, body, service.pause, runtime, caller, run_id, body.reason)


@router.post("/runs/{run_id}/unpause", responses=ACTION)
async def unpause_run(
    run_id: str, runtime: RuntimeDep, caller: Operator, key: OnceKey
) -> RunResponse:
    """Held steps are queued again, and timers that fell due while paused fire at once."""
    return await answer_once(key, run_id, _NO_BODY, service.unpause, runtime, caller, run_id)
