"""The engine's transaction runner for one process: the driver, cache, bus and the
process's way of carrying runs on (its worker, or inline steps only), as run services use them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from towpath.engine.results import Applied, continue_runs
from towpath.engine.run_io import flush_run, open_run
from towpath.engine.sql import database_now
from towpath.engine.subruns import cancel_children, ended_runs, settle_parents
from towpath.engine.transition import RunTransaction, published

if TYPE_CHECKING:
    from collections.abc import Callable

    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.graphs import PreparedWorkflow, WorkflowCache
    from towpath.engine.results import Continuation, LocalExecution
    from towpath.engine.sql import Gen
    from towpath.events.bus import EventBus
    from towpath.storage.database import Database


class RunAudit(Protocol):
    """What a caller did to a run, recorded inside the run's own transition (the services
    know who the caller is; the engine only says when to write it)."""

    def record(self, rt: RunTransaction, before_status: str | None) -> Gen[None]: ...

    def cascaded(self, child: RunTransaction) -> RunAudit:
        """The same caller's cancellation of a child run the change ended with its parent."""
        ...


@dataclass(frozen=True)
class Runtime:
    db: Database
    driver: TransitionDriver
    workflows: WorkflowCache
    bus: EventBus
    # Steps a transition here makes ready run on at once; None leaves them to a claim.
    local: LocalExecution | None = None
    rng: random.Random = field(default_factory=random.Random)

    def continuation(self) -> Continuation | None:
        """Taken before a transition, in the event loop: the worker's room is read there."""
        return self.local.continuation() if self.local is not None else None

    def carry_on(
        self, transactions: list[RunTransaction], continuation: Continuation | None
    ) -> Gen[Applied]:
        """Write these transitions and run on what they made ready: steps without I/O at
        once, the others leased to this process's worker. Parents of runs that ended hear
        of it."""
        d = self.driver.dialect
        if continuation is None:
            for rt in transactions:
                yield from flush_run(rt)
            parents = yield from settle_parents(d, transactions, self.workflows)
            return Applied(changed=[*transactions, *parents])
        now = yield from database_now(d)
        return (
            yield from continue_runs(d, self.workflows, transactions, self.rng, now, continuation)
        )

    def committed(self, applied: Applied) -> None:
        """After the commit: what was leased on starts, and every event goes out."""
        if self.local is not None:
            self.local.take(applied)
        self.announce(applied.changed)

    async def change_run(
        self,
        run_id: str,
        workspace_id: str,
        change: Callable[[RunTransaction, PreparedWorkflow], Gen[None] | None],
        audit: RunAudit | None = None,
    ) -> RunTransaction:
        """One run's transition in its own transaction; its events go out after the commit.
        The transition comes back as committed: the run as this change left it. `audit`
        is recorded in the same transaction, unless the change changed nothing."""
        d = self.driver.dialect
        continuation = self.continuation()

        def transition() -> Gen[tuple[RunTransaction, Applied]]:
            rt = yield from open_run(d, run_id, workspace_id)
            before = rt.run.status
            prepared = yield from self.workflows.get(d, rt.run.workflow_id)
            reading = change(rt, prepared)
            if reading is not None:
                # A change that reads the database as it goes (a loop's next items).
                yield from reading
            changed_anything = bool(rt.events)
            applied = yield from self.carry_on([rt], continuation)
            if audit is not None and changed_anything:
                yield from audit.record(rt, before)
            return rt, applied

        rt, applied = await self.driver.run(transition)
        self.committed(applied)
        changed = applied.changed
        ended = ended_runs(changed)
        if ended:

            def audit_child(child: RunTransaction, before: str) -> Gen[None]:
                if audit is not None:
                    yield from audit.cascaded(child).record(child, before)

            self.announce(await cancel_children(self.driver, ended, audit_child))
        return rt

    def announce(self, transactions: list[RunTransaction]) -> None:
        self.bus.publish(published(transactions))
        self.bus.signal_work()
