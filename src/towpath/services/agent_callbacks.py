"""An agent that answered 202 completes its step later: complete, fail, or heartbeat (to
push the step's deadline back), each proven by the token sent with that attempt's call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from towpath.domain.errors import Conflict, Forbidden, NotFound, Unprocessable
from towpath.domain.states import StepStatus
from towpath.engine.documents import unstorable
from towpath.engine.outcomes import fail_or_retry, step_retry_policy
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.work import idempotency_key
from towpath.steps.callback_tokens import token_attempt, token_matches
from towpath.steps.common import SINGLE_ATTEMPT, RetryPolicy
from towpath.steps.execution import Failed
from towpath.storage.agents import callback_key, run_workspace, waiting_agent_retry

if TYPE_CHECKING:
    from collections.abc import Callable

    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.runtime import Runtime
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import StepRow


@dataclass(frozen=True)
class Answered:
    run_id: str
    step_id: str
    run_status: str
    step_status: str
    # The step's deadline, when it has one (a heartbeat moved it).
    deadline: datetime | None


class CallbackRunNotFound(NotFound):
    code = "RUN_NOT_FOUND"


class CallbackTokenInvalid(Forbidden):
    code = "CALLBACK_TOKEN_INVALID"


class CallbackOutputInvalid(Unprocessable):
    code = "CALLBACK_OUTPUT_INVALID"


class CallbackStale(Conflict):
    """The token was this step's, but for an attempt that is no longer waiting."""

    code = "CALLBACK_STALE"


def _waiting_row(rt: RunTransaction, step_id: str, token: str, key: bytes) -> StepRow:
    row = rt.step(step_id)
    attempt = token_attempt(token)
    valid = (
        row is not None
        and row.step_type == "agent"
        and attempt is not None
        and token_matches(
            key, idempotency_key(rt.run.id, step_id, WHOLE_STEP, attempt), attempt, token
        )
    )
    if not valid or row is None or attempt is None:
        raise CallbackTokenInvalid(
            "the token is not the one sent with a call of this step",
            details={"field": "token", "step_id": step_id},
        )
    if attempt != row.attempt or row.status != StepStatus.WAITING:
        raise CallbackStale(
            f"attempt {attempt} of step {step_id!r} is no longer waiting for its agent",
            details={
                "field": "token",
                "step_id": step_id,
                "attempt": attempt,
                "current_attempt": row.attempt,
                "step_status": row.status,
            },
        )
    return row


async def _answer(
    runtime: Runtime,
    run_id: str,
    step_id: str,
    token: str,
    apply: Callable[[RunTransaction, StepRow, PreparedWorkflow], None],
) -> Answered:
    async with runtime.db.read() as session:
        workspace_id = await run_workspace(session, run_id)
    if workspace_id is None:
        raise CallbackRunNotFound(f"run {run_id!r} not found", details={"id": run_id})
    key = await callback_key(runtime.db)

    def change(rt: RunTransaction, prepared: PreparedWorkflow) -> None:
        apply(rt, _waiting_row(rt, step_id, token, key), prepared)

    rt = await runtime.change_run(run_id, workspace_id, change)
    row = rt.step(step_id)
    status = row.status if row is not None else ""
    deadline = row.available_at if row is not None and status == StepStatus.WAITING else None
    return Answered(run_id, step_id, rt.run.status, status, deadline)


async def complete(
    runtime: Runtime, run_id: str, step_id: str, token: str, output: Any
) -> Answered:
    problem = unstorable(output, "output")
    if problem is not None:
        raise CallbackOutputInvalid(problem, details={"field": "output"})

    def apply(rt: RunTransaction, row: StepRow, prepared: PreparedWorkflow) -> None:
        rt.emit("agent.callback", step_id, outcome="completed", attempt=row.attempt)
        rt.complete_step(row, output)
        rt.advance(prepared.graph)

    return await _answer(runtime, run_id, step_id, token, apply)


async def fail(runtime: Runtime, run_id: str, step_id: str, token: str, error: str) -> Answered:
    agent_retry = await _agent_retry(runtime, run_id, step_id)

    def apply(rt: RunTransaction, row: StepRow, prepared: PreparedWorkflow) -> None:
        rt.emit("agent.callback", step_id, outcome="failed", attempt=row.attempt)
        # As a failed call would be: the step's `retry`, else the agent's defaults.
        node = prepared.nodes.get(step_id)
        has_own = node is not None and node.config.get("retry") is not None
        policy = step_retry_policy(prepared, step_id) if has_own else agent_retry
        reported = Failed(f"the agent reported a failure: {error}")
        fail_or_retry(rt, row, policy, reported, runtime.rng)
        rt.advance(prepared.graph)

    return await _answer(runtime, run_id, step_id, token, apply)


async def _agent_retry(runtime: Runtime, run_id: str, step_id: str) -> RetryPolicy:
    """The retry defaults of the agent the step's attempt called, as registered now."""
    async with runtime.db.read() as session:
        found = await waiting_agent_retry(session, run_id, step_id)
    try:
        return RetryPolicy.model_validate(found or {})
    except ValidationError:
        return SINGLE_ATTEMPT


async def heartbeat(
    runtime: Runtime, run_id: str, step_id: str, token: str, extend_seconds: int
) -> Answered:
    """The agent is still at work: its step's deadline moves to `extend_seconds` from now."""

    def apply(rt: RunTransaction, row: StepRow, prepared: PreparedWorkflow) -> None:
        row.available_at = rt.now + timedelta(seconds=extend_seconds)
        until = row.available_at.isoformat()
        rt.emit("agent.heartbeat", step_id, attempt=row.attempt, deadline=until)

    return await _answer(runtime, run_id, step_id, token, apply)
