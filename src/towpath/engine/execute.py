"""Executing one claimed step: render its config, parse it, run it within its timeout."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from towpath.domain.clock import utcnow
from towpath.domain.templates import RenderCapReached, TemplateError, render_value
from towpath.engine.documents import unstorable
from towpath.steps.common import SINGLE_ATTEMPT, RetryPolicy
from towpath.steps.execution import (
    Completed,
    Deferred,
    Failed,
    FanOut,
    StartChild,
    StepContext,
    Waiting,
)

if TYPE_CHECKING:
    from towpath.engine.work import Work
    from towpath.steps.execution import EngineServices, Outcome
    from towpath.steps.registry import StepRegistry, StepType

log = logging.getLogger("towpath.engine")


@dataclass(frozen=True)
class Result:
    work: Work
    outcome: Outcome
    retry: RetryPolicy
    logs: list[tuple[str, str]]
    # The config as rendered for this attempt: the step run's `input`.
    input: dict[str, Any] | None = None


def _render(work: Work, raw_fields: tuple[str, ...]) -> dict[str, Any]:
    if work.resolved is not None:
        return dict(work.resolved)
    to_render = {k: v for k, v in work.config.items() if k not in raw_fields}
    rendered = render_value(to_render, work.variables)
    return {**rendered, **{k: v for k, v in work.config.items() if k in raw_fields}}


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "config"
    return f"config.{where}: {first['msg']}"


@dataclass(frozen=True)
class Prepared:
    """A claimed step ready to execute: its type, parsed config, retry policy, context."""

    step_type: StepType
    config: Any
    rendered: dict[str, Any]
    retry: RetryPolicy
    context: StepContext
    logs: list[tuple[str, str]]


def prepare(work: Work, registry: StepRegistry, services: EngineServices) -> Prepared | Result:
    """Render and parse the config; a failure here is the step's result, never retried."""
    logs: list[tuple[str, str]] = []
    step_type = registry.get(work.step_type)
    if step_type is None or step_type.execute is None:
        failed = Failed(f"step type {work.step_type!r} cannot be executed", retryable=False)
        return Result(work, failed, SINGLE_ATTEMPT, logs)
    try:
        rendered = _render(work, step_type.raw_fields)
        config = step_type.config_model.model_validate(rendered)
    except TemplateError as exc:
        return Result(work, Failed(str(exc), retryable=False), SINGLE_ATTEMPT, logs)
    except ValidationError as exc:
        failed = Failed(f"after rendering, {_describe(exc)}", retryable=False)
        return Result(work, failed, SINGLE_ATTEMPT, logs)
    retry = getattr(config, "retry", None)
    context = StepContext(
        run_id=work.run_id,
        step_id=work.step_id,
        attempt=work.attempt,
        idempotency_key=work.idempotency_key,
        now=utcnow(),
        variables=work.variables,
        saved=work.saved,
        services=services,
        log=lambda level, message: logs.append((level, message)),
    )
    policy = retry if isinstance(retry, RetryPolicy) else SINGLE_ATTEMPT
    return Prepared(step_type, config, rendered, policy, context, logs)


async def execute_work(work: Work, registry: StepRegistry, services: EngineServices) -> Result:
    prepared = prepare(work, registry, services)
    if isinstance(prepared, Result):
        return prepared
    step_type, config = prepared.step_type, prepared.config
    if step_type.execute is None:  # pragma: no cover - prepare() refused such a type
        raise TypeError(f"step type {step_type.type!r} has no execute")
    timeout = getattr(config, "timeout", None)
    try:
        async with asyncio.timeout(timeout if isinstance(timeout, int | float) else None):
            outcome = await step_type.execute(config, prepared.context)
    except TimeoutError:
        outcome = Failed(f"the step took longer than its timeout of {timeout}s", kind="timeout")
    except TemplateError as exc:
        outcome = Failed(str(exc), retryable=False)
    # A step may learn its retry policy only while executing (an agent's defaults).
    learned = outcome.retry if isinstance(outcome, Failed) else None
    policy = learned if learned is not None else prepared.retry
    return _storable(Result(work, outcome, policy, prepared.logs, prepared.rendered))


def _documents(outcome: Outcome) -> list[tuple[Any, str]]:
    if isinstance(outcome, Completed):
        return [(outcome.output, "output")]
    if isinstance(outcome, Waiting):
        return [(dict(outcome.request), "request")]
    if isinstance(outcome, Deferred):
        return [(dict(outcome.saved), "saved state")]
    if isinstance(outcome, FanOut):
        return [(outcome.items, "items")]
    if isinstance(outcome, StartChild):
        return [(outcome.input, "child input")]
    return []


def _storable(result: Result) -> Result:
    """A result the database could not hold fails its step, saying why, instead of
    failing the transaction that records it (again and again, at every lease expiry)."""
    documents = [(result.input, "input"), *_documents(result.outcome)]
    for value, name in documents:
        problem = unstorable(value, name)
        if problem is not None:
            failed = Failed(f"the step's {name} cannot be stored: {problem}", retryable=False)
            logs = [*result.logs, ("error", failed.error)]
            return Result(result.work, failed, SINGLE_ATTEMPT, logs, None)
    return result


def execute_inline(work: Work, registry: StepRegistry, services: EngineServices) -> Result | None:
    """Run a pure step (no I/O, no waiting) right here; None for any other step, and for
    one whose templates ran past the cap put around this call (render_time_cap): a worker
    runs it again, under the templates' own limits."""
    step_type = registry.get(work.step_type)
    if step_type is None or step_type.inline is None:
        return None
    try:
        prepared = prepare(work, registry, services)
        if isinstance(prepared, Result):
            return prepared
        try:
            outcome = step_type.inline(prepared.config, prepared.context)
        except TemplateError as exc:
            outcome = Failed(str(exc), retryable=False)
    except RenderCapReached:
        return None
    return _storable(Result(work, outcome, prepared.retry, prepared.logs, prepared.rendered))
