"""A worker's executions: each step it holds runs in a task of its own (`execute.py` runs
the step's code), results are recorded in batches, and what they make ready starts at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import traceback
from typing import TYPE_CHECKING

from towpath.domain.secrets import Redactor
from towpath.engine.execute import Result, execute_inline, execute_work
from towpath.engine.results import Applied, Continuation, apply_results
from towpath.engine.subruns import cancel_children, ended_runs
from towpath.engine.transition import published
from towpath.observability.logs import log_context
from towpath.steps.common import SINGLE_ATTEMPT
from towpath.steps.execution import Failed
from towpath.storage.unavailable import database_away

if TYPE_CHECKING:
    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.leases import Leases
    from towpath.engine.run_io import RunCache
    from towpath.engine.secret_values import SecretValues
    from towpath.engine.settings import WorkerSettings
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.engine.work import Work
    from towpath.events.bus import EventBus
    from towpath.steps.execution import EngineServices
    from towpath.steps.registry import StepRegistry

log = logging.getLogger("towpath.engine")
# Between two tries to record a result while the database is away (restarting).
AWAY_RETRY_SECONDS = 0.5


class Execution:
    def __init__(
        self,
        driver: TransitionDriver,
        registry: StepRegistry,
        services: EngineServices,
        workflows: WorkflowCache,
        bus: EventBus,
        settings: WorkerSettings,
        leases: Leases,
        runs: RunCache,
        stopping: asyncio.Event,
        secrets: SecretValues | None = None,
    ) -> None:
        self.driver = driver
        self.d = driver.dialect
        self.registry = registry
        self.services = services
        self.workflows = workflows
        self.bus = bus
        self.settings = settings
        self.leases = leases
        self.runs = runs
        self.stopping = stopping
        self.secrets = secrets
        self.results: asyncio.Queue[Result] = asyncio.Queue()
        self._rng = random.Random()  # noqa: S311 - jitter, not secrets
        # The last claim filled the worker's room: ready steps may still be waiting.
        self.queue_left = False
        # Work started after a commit that no one awaits (cancelling child runs).
        self._background: set[asyncio.Task[None]] = set()

    def start(self, works: list[Work]) -> None:
        for work in works:
            self.leases.hold(work, asyncio.create_task(self._execute(work)))

    async def _execute(self, work: Work) -> None:
        # What is logged while the step runs says which run and step it was for.
        with log_context(run_id=work.run_id, step_id=work.step_id):
            try:
                if self.secrets is not None:
                    work = await self.secrets.attach(work)
                result = await execute_work(work, self.registry, self.services)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged by _log_raised, recorded as failed
                _log_raised(work, exc)
                result = Result(work, Failed(f"internal error: {exc!r}"), SINGLE_ATTEMPT, [])
        await self.results.put(result)

    async def drain(self) -> None:
        """Let steps in flight finish and their results be written, within the grace."""
        grace = self.settings.shutdown_grace_seconds
        if self.leases.executing:
            await asyncio.wait(list(self.leases.executing.values()), timeout=grace)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.results.join()

    async def commit_loop(self) -> None:
        while True:
            batch = [await self.results.get()]
            while not self.results.empty() and len(batch) < self.settings.commit_batch:
                batch.append(self.results.get_nowait())
            try:
                await self._commit(batch)
            except Exception:
                log.exception("recording %d results failed", len(batch))
                self._forget(batch)
            for _ in batch:
                self.results.task_done()

    async def _commit(self, batch: list[Result]) -> None:
        applied: Applied | None
        try:
            applied = await self._apply(batch)
        except Exception:  # noqa: BLE001 - whatever it is, it is one result's, not the worker's
            if len(batch) > 1:
                # One bad result must not hold back the others: record them one by one.
                for result in batch:
                    await self._commit([result])
                return
            applied = await self._apply_once_more(batch[0])
        if applied is None:
            return
        self._forget(batch)
        self.runs.keep(applied.changed)
        # Steps the results made ready run here at once: no claim, no wait.
        self.start(applied.continued)
        self.bus.publish(published(applied.changed))
        if applied.left_ready or self.queue_left:
            # Room was freed: refill it now from the queue, not at the next poll.
            self.bus.signal_work()
        self.end_children_of(applied.changed)

    def continuation(self, finishing: int = 0) -> Continuation:
        """Steps made ready next are leased to this worker, as many as it has room for
        (`finishing` steps are about to leave), the inline ones run at once."""
        room = self.settings.concurrency - self.leases.in_flight() + finishing
        if self.stopping.is_set():
            room = 0  # nothing new is taken on: what is ready stays for another worker
        return Continuation(
            self.settings.worker_id,
            self.leases.lease,
            max(room, 0),
            inline=self._inline if self.settings.inline_pure_steps else None,
            can_inline=self._can_inline,
            inline_seconds=self.settings.inline_seconds,
            inline_output_chars=self.settings.inline_output_chars,
        )

    def take(self, applied: Applied) -> None:
        """What a transition outside the worker (a start, an answer) leased on to it."""
        self.runs.keep(applied.changed)
        self.start(applied.continued)
        if applied.left_ready:
            self.bus.signal_work()

    async def _apply(self, batch: list[Result]) -> Applied:
        continuation = self.continuation(finishing=len(batch))

        def apply() -> Gen[Applied]:
            return (
                yield from apply_results(
                    self.d, self.workflows, batch, self._rng, None, continuation, self.runs
                )
            )

        return await self.driver.run(apply)

    async def _apply_once_more(self, result: Result) -> Applied | None:
        """A result that could not be recorded. Once more, as it is (a deadlock or a dropped
        connection passes), and again while the database is away, for as long as a lease
        lasts (a restart passes); then as the step's failure, saying why, so the step does
        not run again at every lease expiry; if even that cannot be written, or the
        database stays away, the lease runs out and another attempt records it."""
        step = f"step {result.work.step_id} of run {result.work.run_id}"
        deadline = time.monotonic() + self.leases.lease_seconds
        while True:
            try:
                return await self._apply([result])
            except Exception as error:
                if not database_away(error):
                    log.warning("could not record %s; recording it as failed", step, exc_info=True)
                    reason = f"could not record the step's result: {type(error).__name__}: {error}"
                    break
                # Not the result's fault: failing the step would fail its run for a restart.
                if time.monotonic() > deadline:
                    log.warning("could not record %s, the database is away", step)
                    self._forget([result])
                    return None
            await asyncio.sleep(AWAY_RETRY_SECONDS)
        failed = Result(result.work, Failed(reason, retryable=False), SINGLE_ATTEMPT, [])
        try:
            return await self._apply([failed])
        except Exception:
            log.exception("could not record %s; its lease will expire", step)
            self._forget([result])
            return None

    def end_children_of(self, changed: list[RunTransaction]) -> None:
        """Runs that failed or were cancelled here leave no child run working for them."""
        ended = ended_runs(changed)
        if ended:
            task = asyncio.create_task(self._end_children(ended))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _end_children(self, ended: dict[str, str]) -> None:
        try:
            cancelled = await cancel_children(self.driver, ended)
        except self.driver.errors:
            log.warning("could not cancel the child runs of %s", sorted(ended), exc_info=True)
            return
        self.bus.publish(published(cancelled))

    def _inline(self, work: Work) -> Result | None:
        return execute_inline(work, self.registry, self.services)

    def _can_inline(self, step_type: str) -> bool:
        found = self.registry.get(step_type)
        return found is not None and found.inline is not None

    def _forget(self, batch: list[Result]) -> None:
        for result in batch:
            self.leases.forget(result.work.step_run_id)


def _log_raised(work: Work, exc: Exception) -> None:
    """The traceback of a step that raised, with the secrets it read redacted: an
    exception's message may quote the URL or header a secret went into."""
    text = "".join(traceback.format_exception(exc))
    secrets = work.variables.get("secrets")
    if isinstance(secrets, dict):
        text = Redactor(secrets).text(text)
    log.error("step %s of run %s raised\n%s", work.step_id, work.run_id, text)
