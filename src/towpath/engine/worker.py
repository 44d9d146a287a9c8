"""The worker: claims ready steps, executes them concurrently, commits their results in
batches, renews its leases, and notices when a run it works for was cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from towpath.engine.claim import claim_ready_steps
from towpath.engine.execute import Result, execute_inline, execute_work
from towpath.engine.fair_share import Turns
from towpath.engine.inline_budget import INLINE_OUTPUT_CHARS, INLINE_SECONDS
from towpath.engine.outcomes import release_leases
from towpath.engine.results import Applied, Continuation, apply_results
from towpath.engine.sql import database_now, fetch
from towpath.engine.subruns import cancel_children, ended_runs
from towpath.engine.timers import expire_due
from towpath.engine.transition import RunCache, published
from towpath.observability.logs import log_context
from towpath.steps.common import SINGLE_ATTEMPT
from towpath.steps.execution import Failed

if TYPE_CHECKING:
    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.graphs import WorkflowCache
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.engine.work import Work
    from towpath.events.bus import EventBus, PublishedEvent
    from towpath.steps.execution import EngineServices
    from towpath.steps.registry import StepRegistry

log = logging.getLogger("towpath.engine")


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class WorkerSettings:
    worker_id: str = field(default_factory=default_worker_id)
    concurrency: int = 64
    lease_seconds: float = 30.0
    poll_seconds: float = 0.5
    commit_batch: int = 256
    inline_pure_steps: bool = True
    inline_seconds: float = INLINE_SECONDS
    inline_output_chars: int = INLINE_OUTPUT_CHARS
    # On shutdown, steps in flight get this long to finish before they are handed back.
    shutdown_grace_seconds: float = 10.0
    # What other processes commit wakes this worker at most this often (PostgreSQL).
    notice_seconds: float = 0.02


# Every committed run event is announced here by a trigger (migration 0002), with the
# payload `<workspace_id> <workflow_id> <run_id> <seq>`.
RUN_EVENTS_CHANNEL = "towpath_run_events"


class Worker:
    def __init__(
        self,
        driver: TransitionDriver,
        registry: StepRegistry,
        services: EngineServices,
        workflows: WorkflowCache,
        bus: EventBus,
        settings: WorkerSettings,
    ) -> None:
        self.driver = driver
        self.d = driver.dialect
        self.registry = registry
        self.services = services
        self.workflows = workflows
        self.bus = bus
        self.settings = settings
        self._results: asyncio.Queue[Result] = asyncio.Queue()
        self._executing: dict[str, asyncio.Task[None]] = {}
        self._leases: dict[str, Work] = {}
        self._stopping = asyncio.Event()
        self._rng = random.Random()  # noqa: S311 - jitter, not secrets
        self._runs = RunCache()
        self._turns = Turns()
        # The last claim filled the worker's room: ready steps may still be waiting.
        self._queue_left = False
        # Work started after a commit that no one awaits (cancelling child runs).
        self._background: set[asyncio.Task[None]] = set()
        # Runs other processes changed, heard through the database since last looked at.
        self._heard: set[str] = set()
        self._heard_all = False
        self._hearing = asyncio.Event()
        # A run cancelled in this process stops its steps at once, not at the next renewal.
        bus.listen(self._on_event)

    def _on_event(self, event: PublishedEvent) -> None:
        if event.event_type in ("run.cancelled", "run.failed"):
            self.abandon_run(event.run_id)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    async def run(self) -> None:
        claiming = asyncio.create_task(self._claim_loop())
        loops = [self._commit_loop(), self._renew_loop(), self._timer_loop(), self._notice_loop()]
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            await self._stopping.wait()
            claiming.cancel()
            await self._drain()
        finally:
            for task in [claiming, *tasks, *self._executing.values()]:
                task.cancel()
            await asyncio.gather(
                claiming, *tasks, *self._executing.values(), return_exceptions=True
            )
            await self._hand_back()

    async def _drain(self) -> None:
        """Let steps in flight finish and their results be written, within the grace."""
        grace = self.settings.shutdown_grace_seconds
        if self._executing:
            await asyncio.wait(list(self._executing.values()), timeout=grace)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self._results.join()

    async def _hand_back(self) -> None:
        """Steps still leased go back to the queue now, not when their lease runs out."""
        works = list(self._leases.values())
        self._leases.clear()
        if not works:
            return
        changed = await self.driver.run(lambda: release_leases(self.d, works))
        self.bus.publish(published(changed))

    def stop(self) -> None:
        self._stopping.set()

    # --- claiming and executing --------------------------------------------------------

    async def _claim_loop(self) -> None:
        while True:
            # Cleared before the claim, so a signal that comes while claiming is kept.
            self.bus.work_ready.clear()
            free = self.settings.concurrency - len(self._executing)
            claimed = await self._claim(free) if free > 0 else []
            self._start(claimed)
            if free > 0:
                # A claim that filled the room may have left more in the queue.
                self._queue_left = bool(claimed) and free <= len(claimed)
            if not claimed or free <= len(claimed):
                await self._wait_for_work()

    async def _claim(self, limit: int) -> list[Work]:
        def claim() -> Gen[tuple[list[Work], list[RunTransaction]]]:
            now = yield from database_now(self.d)
            return (
                yield from claim_ready_steps(
                    self.d,
                    self.workflows,
                    self.settings.worker_id,
                    limit,
                    self.lease,
                    now,
                    self._runs,
                    self._turns,
                )
            )

        try:
            claimed, changed = await self.driver.run(claim)
        except Exception:
            log.warning("claiming failed; trying again", exc_info=True)
            await asyncio.sleep(self.settings.poll_seconds)
            return []
        self._runs.keep(changed)
        self.bus.publish(published(changed))
        return claimed

    def _start(self, works: list[Work]) -> None:
        for work in works:
            self._leases[work.step_run_id] = work
            self._executing[work.step_run_id] = asyncio.create_task(self._execute(work))

    async def _wait_for_work(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.poll_seconds):
                await self.bus.work_ready.wait()

    async def _execute(self, work: Work) -> None:
        # What is logged while the step runs says which run and step it was for.
        with log_context(run_id=work.run_id, step_id=work.step_id):
            try:
                result = await execute_work(work, self.registry, self.services)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("step %s of run %s raised", work.step_id, work.run_id)
                result = Result(work, Failed(f"internal error: {exc!r}"), SINGLE_ATTEMPT, [])
        await self._results.put(result)

    # --- committing results ------------------------------------------------------------

    async def _commit_loop(self) -> None:
        while True:
            batch = [await self._results.get()]
            while not self._results.empty() and len(batch) < self.settings.commit_batch:
                batch.append(self._results.get_nowait())
            try:
                await self._commit(batch)
            except Exception:
                log.exception("recording %d results failed", len(batch))
                self._forget(batch)
            for _ in batch:
                self._results.task_done()

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
        self._runs.keep(applied.changed)
        # Steps the results made ready run here at once: no claim, no wait.
        self._start(applied.continued)
        self.bus.publish(published(applied.changed))
        if applied.left_ready or self._queue_left:
            # Room was freed: refill it now from the queue, not at the next poll.
            self.bus.signal_work()
        self._end_children_of(applied.changed)

    def continuation(self, finishing: int = 0) -> Continuation:
        """Steps made ready next are leased to this worker, as many as it has room for
        (`finishing` steps are about to leave), the inline ones run at once."""
        room = self.settings.concurrency - len(self._executing) + finishing
        if self._stopping.is_set():
            room = 0  # nothing new is taken on: what is ready stays for another worker
        return Continuation(
            self.settings.worker_id,
            self.lease,
            max(room, 0),
            inline=self._inline if self.settings.inline_pure_steps else None,
            inline_seconds=self.settings.inline_seconds,
            inline_output_chars=self.settings.inline_output_chars,
        )

    def take(self, applied: Applied) -> None:
        """What a transition outside the worker (a start, an answer) leased on to it."""
        self._runs.keep(applied.changed)
        self._start(applied.continued)
        if applied.left_ready:
            self.bus.signal_work()

    async def _apply(self, batch: list[Result]) -> Applied:
        continuation = self.continuation(finishing=len(batch))

        def apply() -> Gen[Applied]:
            now = yield from database_now(self.d)
            return (
                yield from apply_results(
                    self.d, self.workflows, batch, self._rng, now, continuation, self._runs
                )
            )

        return await self.driver.run(apply)

    async def _apply_once_more(self, result: Result) -> Applied | None:
        """A result that could not be recorded. Once more, as it is (a deadlock or a dropped
        connection passes); then as the step's failure, saying why, so the step does not
        run again at every lease expiry; if even that cannot be written, the lease runs out
        and another attempt records it."""
        step = f"step {result.work.step_id} of run {result.work.run_id}"
        try:
            return await self._apply([result])
        except Exception as error:
            log.warning("could not record %s; recording it as failed", step, exc_info=True)
            reason = f"could not record the step's result: {type(error).__name__}: {error}"
        failed = Result(result.work, Failed(reason, retryable=False), SINGLE_ATTEMPT, [])
        try:
            return await self._apply([failed])
        except Exception:
            log.exception("could not record %s; its lease will expire", step)
            self._forget([result])
            return None

    def _end_children_of(self, changed: list[RunTransaction]) -> None:
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

    def _forget(self, batch: list[Result]) -> None:
        for result in batch:
            self._executing.pop(result.work.step_run_id, None)
            self._leases.pop(result.work.step_run_id, None)

    # --- leases ------------------------------------------------------------------------

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.lease_seconds / 3)
            try:
                await self.renew_leases()
            except self.driver.errors:
                # Two more tries before the leases run out.
                log.warning("renewing leases failed; trying again", exc_info=True)

    async def renew_leases(self) -> None:
        if not self._leases:
            return
        works = list(self._leases.values())

        def renew() -> Gen[set[tuple[str, str]]]:
            now = yield from database_now(self.d)
            marks = ", ".join("?" for _ in works)
            rows = yield from fetch(
                f"UPDATE step_runs SET lease_expires_at = ? WHERE id IN ({marks})"
                " AND status = 'running' AND lease_owner = ? RETURNING id, lease_token",
                self.d.time(now + self.lease),
                *[w.step_run_id for w in works],
                self.settings.worker_id,
            )
            return {(row[0], row[1]) for row in rows}

        kept = await self.driver.run(renew)
        for work in works:
            if (work.step_run_id, work.lease_token) not in kept:
                # Cancelled, or another worker took it over: stop working on it.
                self.abandon(work.step_run_id)

    def abandon(self, step_run_id: str) -> None:
        task = self._executing.pop(step_run_id, None)
        self._leases.pop(step_run_id, None)
        if task is not None:
            task.cancel()

    def abandon_run(self, run_id: str) -> None:
        for work in [w for w in self._leases.values() if w.run_id == run_id]:
            self.abandon(work.step_run_id)

    # --- what other processes commit ---------------------------------------------------

    def _heard_from(self, payload: str) -> None:
        parts = payload.split(" ")
        if len(parts) == 4:
            self._heard.add(parts[2])
        else:
            self._heard_all = True  # the listener reconnected: anything may have happened
        self._hearing.set()

    async def _notice_loop(self) -> None:
        """Another process started a run or left a step ready: claim now, not at the next
        poll. It cancelled a run this worker executes steps of: stop them now, not at the
        next lease renewal. At most once per `notice_seconds`, however busy the database."""
        async with self.driver.notifications(RUN_EVENTS_CHANNEL, self._heard_from) as hearing:
            if not hearing:
                return
            while True:
                await self._hearing.wait()
                self._hearing.clear()
                heard, everything = self._heard, self._heard_all
                self._heard, self._heard_all = set(), False
                self.bus.signal_work()
                executing = {work.run_id for work in self._leases.values()}
                await self._stop_ended_runs(executing if everything else executing & heard)
                await asyncio.sleep(self.settings.notice_seconds)

    async def _stop_ended_runs(self, run_ids: set[str]) -> None:
        if not run_ids:
            return
        d = self.d

        def statuses() -> Gen[list[tuple[Any, ...]]]:
            return (
                yield from fetch(
                    f"SELECT id FROM runs WHERE {d.any_of('id')}"
                    " AND status IN ('completed', 'failed', 'cancelled')",
                    d.ids(sorted(run_ids)),
                )
            )

        try:
            ended = await self.driver.run(statuses)
        except self.driver.errors:
            log.warning("could not look at runs changed elsewhere", exc_info=True)
            return
        for (run_id,) in ended:
            self.abandon_run(run_id)

    # --- timers --------------------------------------------------------------------------

    async def _timer_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_seconds)

            def expire() -> Gen[list[RunTransaction]]:
                now = yield from database_now(self.d)
                return (yield from expire_due(self.d, self.workflows, now, limit=100))

            try:
                changed = await self.driver.run(expire)
            except Exception:
                log.warning("expiring timers failed; trying again", exc_info=True)
                continue
            if changed:
                self.bus.publish(published(changed))
                self.bus.signal_work()
                self._end_children_of(changed)
