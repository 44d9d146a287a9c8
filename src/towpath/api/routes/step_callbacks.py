"""Where an agent that answered 202 completes its step later. No API key: the token sent
with that attempt's call is the credential, good for that step's attempt only."""

from __future__ import annotations

from fastapi import APIRouter, Request

from towpath.api.deps import RuntimeDep
from towpath.api.rate_limit import mark_authenticated
from towpath.api.schemas.agents import (
    CallbackAnswer,
    CallbackComplete,
    CallbackFail,
    CallbackHeartbeat,
)
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.services import agent_callbacks as service

router = APIRouter(prefix="/runs/{run_id}/steps/{step_id}", tags=["agents"])
# What any operation under /api/v1 documents; a wrong token is 403, a stale one 409.
REFUSED = {**WITH_BODY, **errors(401, 403, 404, 409, 422, 429, 500)}


def _answer(request: Request, answered: object) -> CallbackAnswer:
    # The token worked: the agent's host is not counted as an anonymous caller.
    mark_authenticated(request.scope)
    return CallbackAnswer.model_validate(answered, from_attributes=True)


@router.post("/complete", responses=REFUSED)
async def complete_agent_step(
    run_id: str, step_id: str, body: CallbackComplete, runtime: RuntimeDep, request: Request
) -> CallbackAnswer:
    """The agent's result: it becomes the step's output and the run goes on."""
    return _answer(
        request, await service.complete(runtime, run_id, step_id, body.token, body.output)
    )


@router.post("/fail", responses=REFUSED)
async def fail_agent_step(
    run_id: str, step_id: str, body: CallbackFail, runtime: RuntimeDep, request: Request
) -> CallbackAnswer:
    """The agent could not do it: the step fails with its error."""
    return _answer(request, await service.fail(runtime, run_id, step_id, body.token, body.error))


@router.post("/heartbeat", responses=REFUSED)
async def agent_step_heartbeat(
    run_id: str, step_id: str, body: CallbackHeartbeat, runtime: RuntimeDep, request: Request
) -> CallbackAnswer:
    """Still at work: the step's deadline moves to `extend_seconds` from now."""
    return _answer(
        request, await service.heartbeat(runtime, run_id, step_id, body.token, body.extend_seconds)
    )
