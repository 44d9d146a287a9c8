"""What run services share with the engine in one process: the driver, cache and bus."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from towpath.engine.subruns import cancel_children, ended_runs, settle_parents
from towpath.engine.transition import RunTransaction, published

if TYPE_CHECKING:
    from collections.abc import Callable

    from towpath.engine.drivers import TransitionDriver
    from towpath.engine.graphs import PreparedWorkflow, WorkflowCache
    from towpath.engine.sql import Gen
    from towpath.events.bus import EventBus
    from towpath.services.audit import RunAction
    from towpath.storage.database import Database


@dataclass(frozen=True)
class Runtime:
    db: Database
    driver: TransitionDriver
    workflows: WorkflowCache
    bus: EventBus

    async def change_run(
        self,
        run_id: str,
        workspace_id: str,
        change: Callable[[RunTransaction, PreparedWorkflow], None],
        audit: RunAction | None = None,
    ) -> RunTransaction:
        """One run's transition in its own transaction; its events go out after the commit.
        The transition comes back as committed: the run as this change left it. `audit`
        is recorded in the same transaction, unless the change changed nothing."""
        d = self.driver.dialect

        def transition() -> Gen[list[RunTransaction]]:
            rt = yield from RunTransaction.open(d, run_id, workspace_id)
            before = rt.run.status
            prepared = yield from self.workflows.get(d, rt.run.workflow_id)
            change(rt, prepared)
            yield from rt.flush()
            if audit is not None and rt.events:
                yield from audit.record(rt, before)
            parents = yield from settle_parents(d, [rt], self.workflows)
            return [rt, *parents]

        changed = await self.driver.run(transition)
        self.announce(changed)
        ended = ended_runs(changed)
        if ended:

            def audit_child(child: RunTransaction, before: str) -> Gen[None]:
                if audit is not None:
                    details = {"parent_run_id": child.run.parent_run_id}
                    yield from replace(audit, action="run.cancel", details=details).record(
                        child, before
                    )

            self.announce(await cancel_children(self.driver, ended, audit_child))
        return changed[0]

    def announce(self, transactions: list[RunTransaction]) -> None:
        self.bus.publish(published(transactions))
        self.bus.signal_work()
