"""Recording what steps came to, and carrying the runs on in the same transaction.

A transition that makes steps ready need not leave them for a claim: the steps that do
no I/O (transform, condition, switch, the steps that only start waiting, a delay, a
for_each's fan-out, a sub-workflow's start) run right there, inside it, and the others
are leased to the worker of this process, when it has one, which starts them at once.
A worker's results go on this way; so do a run start and an answer given over the API.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from towpath.domain.ids import new_id
from towpath.domain.states import EventType, StepStatus
from towpath.engine.claim import lease_steps
from towpath.engine.execute import execute_inline
from towpath.engine.inline_budget import (
    INLINE_OUTPUT_CHARS,
    INLINE_SECONDS,
    INLINE_STEPS,
    InlineBudget,
)
from towpath.engine.outcomes import record_result
from towpath.engine.run_io import RunCache, flush_runs, open_runs_at
from towpath.engine.secret_values import redacted
from towpath.engine.subruns import settle_parents

if TYPE_CHECKING:
    import random
    from collections.abc import Callable
    from datetime import datetime, timedelta

    from towpath.engine.execute import Result
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.sql import Dialect, Gen
    from towpath.engine.transition import RunTransaction
    from towpath.engine.work import Work
    from towpath.steps.execution import EngineServices
    from towpath.steps.registry import StepRegistry


@dataclass
class Applied:
    """What a transaction changed, and the steps it leased on to this process's worker."""

    changed: list[RunTransaction] = field(default_factory=list)
    continued: list[Work] = field(default_factory=list)
    # Steps became ready that no one holds yet: another worker may claim them.
    left_ready: bool = False


@dataclass(frozen=True)
class Continuation:
    """Lease steps made ready straight to a worker, skipping a claim; run the ones that
    can run inline at once, in the same transaction."""

    worker_id: str
    lease: timedelta
    # Steps leased on to the worker, at most (its free room).
    limit: int
    inline: Callable[[Work], Result | None] | None = None
    # Where no worker takes the rest: only the step types this says yes to are leased.
    inline_only: Callable[[str], bool] | None = None
    # Which step types `inline` may run: the others are not even tried (and timed).
    can_inline: Callable[[str], bool] | None = None
    # A long chain of inline steps must not hold the write lock for long.
    inline_budget: int = INLINE_STEPS
    # Nor can slow or large templates: what one transaction may spend rendering inline.
    inline_seconds: float = INLINE_SECONDS
    inline_output_chars: int = INLINE_OUTPUT_CHARS

    def budget(self) -> InlineBudget:
        return InlineBudget(self.inline_budget, self.inline_seconds, self.inline_output_chars)


class LocalExecution(Protocol):
    """How a process carries runs on after a transition it made outside its worker."""

    def continuation(self) -> Continuation: ...

    def take(self, applied: Applied) -> None:
        """After the commit: start what was leased on, keep what was changed."""
        ...


def apply_results(
    d: Dialect,
    workflows: WorkflowCache,
    results: list[Result],
    rng: random.Random,
    now: datetime | None = None,
    continuation: Continuation | None = None,
    cache: RunCache | None = None,
) -> Gen[Applied]:
    """Apply results in one transaction; a result whose lease was lost changes nothing.
    Without `now`, the database's time read with the runs."""
    run_ids = {result.work.run_id for result in results}
    opened, clock = yield from open_runs_at(d, run_ids, cache=cache)
    now = now or clock
    return (yield from _proceed(d, workflows, opened, results, [], rng, now, continuation))


def continue_runs(
    d: Dialect,
    workflows: WorkflowCache,
    transactions: list[RunTransaction],
    rng: random.Random,
    now: datetime,
    continuation: Continuation,
) -> Gen[Applied]:
    """Carry on the runs these transitions (a start, an answer) made steps ready in, then
    write them: what they changed and what ran on."""
    opened = {rt.run.id: rt for rt in transactions}
    return (yield from _proceed(d, workflows, opened, [], transactions, rng, now, continuation))


def _proceed(
    d: Dialect,
    workflows: WorkflowCache,
    opened: dict[str, RunTransaction],
    results: list[Result],
    ready_in: list[RunTransaction],
    rng: random.Random,
    now: datetime,
    continuation: Continuation | None,
) -> Gen[Applied]:
    applied = Applied()
    logs: list[list[Any]] = []
    pending: deque[Result] = deque(results)
    budget = continuation.budget() if continuation else InlineBudget(0, 0.0, 0)
    for ready in ready_in:
        yield from _carry_on(d, ready, workflows, continuation, now, applied, pending, budget)
    while pending:
        result = pending.popleft()
        work = result.work
        rt = opened.get(work.run_id)
        if rt is None:
            continue  # the run is gone: nothing is left to record the result in
        row = rt.step(work.step_id, work.item_index)
        # Fencing: only the holder of the current lease may write the step's result.
        if row is None or row.status != StepStatus.RUNNING or row.lease_token != work.lease_token:
            continue
        # Before any part of it is written: its log lines, output, error and input.
        result = redacted(result)
        for level, message in result.logs:
            logs.append(
                [rt.run.workspace_id, rt.run.id, work.step_id, level, message, d.time(rt.now)]
            )
            # Watchers of the run see the line as it is written, like any other event.
            rt.emit(EventType.STEP_LOG, work.step_id, level=level, message=message)
        applied.changed += yield from record_result(d, rt, row, result, workflows, rng)
        yield from _carry_on(d, rt, workflows, continuation, now, applied, pending, budget)
    for rt in opened.values():
        applied.left_ready = applied.left_ready or any(
            row.status in (StepStatus.QUEUED, StepStatus.RETRYING) for row in rt.steps.values()
        )
    # The attempts' log lines ride in the same writes as their results.
    yield from flush_runs(d, opened.values(), logs)
    # Runs started in the slots these ends freed have steps ready for a claim.
    applied.left_ready = applied.left_ready or any(rt.followers for rt in opened.values())
    applied.changed = list(opened.values()) + applied.changed
    applied.changed += yield from settle_parents(d, applied.changed, workflows)
    return applied


def _carry_on(
    d: Dialect,
    rt: RunTransaction,
    workflows: WorkflowCache,
    continuation: Continuation | None,
    now: datetime,
    applied: Applied,
    pending: deque[Result],
    budget: InlineBudget,
) -> Gen[None]:
    """The run is locked already: lease its ready steps on, run the inline ones now."""
    if continuation is None:
        return
    room = continuation.limit - len(applied.continued)
    if continuation.inline_only is not None:
        room = 0 if budget.spent else budget.steps
    if room <= 0:
        return
    ready = [
        row
        for row in rt.steps.values()
        if row.status == StepStatus.QUEUED
        and (row.available_at is None or row.available_at <= rt.now)
        and (continuation.inline_only is None or continuation.inline_only(row.step_type))
    ][:room]
    if not ready:
        return
    prepared = yield from workflows.get(d, rt.run.workflow_id)
    expires = now + continuation.lease
    inline, owner = continuation.inline, continuation.worker_id
    if continuation.inline_only is None:
        can_inline = continuation.can_inline
        for work in lease_steps(rt, prepared, ready, owner, new_id(), expires):
            done = None
            if inline and not budget.spent and (can_inline is None or can_inline(work.step_type)):
                done = budget.run(inline, work)
            if done is not None:
                pending.append(done)
            else:
                applied.continued.append(work)
        return
    # No worker here: a step is leased only while there is budget left to run it.
    for row in ready:
        if inline is None or budget.spent:
            return
        for work in lease_steps(rt, prepared, [row], owner, new_id(), expires):
            done = budget.run(inline, work)
            if done is not None:
                pending.append(done)
            else:
                _give_back(rt, work)


def _give_back(rt: RunTransaction, work: Work) -> None:
    """No worker here runs a step whose templates outlasted the transaction's budget:
    it goes back to the queue, for a worker's claim."""
    row = rt.step(work.step_id, work.item_index)
    if row is not None:
        row.available_at = rt.now
        rt.set_step_status(
            row, StepStatus.QUEUED, reason="its templates need longer than a transaction"
        )


class InlineOnly:
    """How a process without a worker carries runs on: the steps without I/O run inside
    the transition that made them ready; the rest wait for a worker's claim."""

    def __init__(
        self,
        registry: StepRegistry,
        services: EngineServices,
        owner: str,
        lease: timedelta,
        inline_seconds: float = INLINE_SECONDS,
        inline_output_chars: int = INLINE_OUTPUT_CHARS,
    ) -> None:
        self._registry = registry
        self._services = services
        self._owner = owner
        self._lease = lease
        self._seconds = inline_seconds
        self._output_chars = inline_output_chars

    def continuation(self) -> Continuation:
        return Continuation(
            self._owner,
            self._lease,
            0,
            inline=self._inline,
            inline_only=self._runs_inline,
            inline_seconds=self._seconds,
            inline_output_chars=self._output_chars,
        )

    def take(self, applied: Applied) -> None:
        """Nothing was leased on: only inline steps were, and they have run."""

    def _inline(self, work: Work) -> Result | None:
        return execute_inline(work, self._registry, self._services)

    def _runs_inline(self, step_type: str) -> bool:
        found = self._registry.get(step_type)
        return found is not None and found.inline is not None
