"""The caller's inbox: the steps of its workspace waiting for an answer it may give.

An approval is in it when the caller may vote now: one of its approvers (by role, key,
subject or group), not barred as the run's starter, and not having voted already. A
clarification is in it for anyone who may answer runs. Answering needs the operator role,
so a viewer's inbox is empty. One read finds the workspace's waiting steps; the rules are
applied to each here, by the same function a vote is checked with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from towpath.engine.approvals import vote_refusal
from towpath.storage import inbox as queries
from towpath.storage.inbox import SCAN_LIMIT, InboxFilter, WaitingStep
from towpath.storage.pagination import Page, PageRequest

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.storage.database import Database

SORTABLE = ("waiting_since",)
# Who answers a waiting step at all (POST /runs/{id}/approve, /clarify, /resume).
ANSWERING_ROLE = "operator"


@dataclass(frozen=True)
class InboxItem:
    step: WaitingStep
    # When the step stops waiting unanswered: an approval's timeout (or escalation's),
    # a clarification's timeout; None when it waits forever.
    deadline_at: datetime | None


def actionable(caller: Principal, step: WaitingStep) -> bool:
    if not caller.has_role(ANSWERING_ROLE):
        return False
    if step.step_type == "approval":
        refusal = vote_refusal(step.state, caller.subject, caller.has_role, step.started_by)
        return refusal is None
    return True


def _item(step: WaitingStep) -> InboxItem:
    if step.step_type == "approval":
        deadline = step.state.get("deadline_at")
        at = datetime.fromisoformat(deadline) if isinstance(deadline, str) else None
        return InboxItem(step, at)
    return InboxItem(step, step.wakes_at)


async def _scan(
    db: Database, caller: Principal, where: InboxFilter
) -> tuple[list[InboxItem], bool]:
    """The caller's items, oldest first, and whether every waiting step was looked at."""
    steps = await db.reading(queries.waiting_steps, caller.workspace_id, where)
    items = [_item(step) for step in steps if actionable(caller, step)]
    return items, len(steps) < SCAN_LIMIT


async def list_inbox(
    db: Database, caller: Principal, where: InboxFilter, page: PageRequest
) -> Page[InboxItem]:
    items, exact = await _scan(db, caller, where)
    if (page.sort or "waiting_since").startswith("-"):
        items.reverse()
    start = (page.page - 1) * page.per_page
    return Page(items=items[start : start + page.per_page], total=len(items), exact=exact)


async def count_inbox(db: Database, caller: Principal, where: InboxFilter) -> int:
    items, _ = await _scan(db, caller, where)
    return len(items)


async def run_items(db: Database, caller: Principal, run_id: str | None) -> list[InboxItem]:
    """The caller's items of one run, or of every run: what a live inbox compares."""
    items, _ = await _scan(db, caller, InboxFilter(run_id=run_id))
    return items
