"""Event trigger rows, and the statements an event's post runs in its transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from towpath.domain.errors import NotFound
from towpath.storage.models import EventTrigger
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.scoped import get_scoped

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"created_at": EventTrigger.created_at, "name": EventTrigger.name}

# The subscribers of one event name, oldest first: runs start in the order they subscribed.
SUBSCRIBERS = (
    "SELECT id, workflow_id, pinned, filter, input_template FROM event_triggers"
    " WHERE workspace_id = ? AND event_name = ? ORDER BY created_at, id"
)
# The steps waiting for an event, with what each waits for in `state`.
WAITING_STEPS = (
    "SELECT run_id, step_id, item_index, state FROM step_runs"
    " WHERE workspace_id = ? AND status = 'waiting' AND step_type = 'wait_for_event'"
)
POSTED = "SELECT fingerprint, answer FROM posted_events WHERE workspace_id = ? AND event_id = ?"
# Two posts of one id: the second waits for the first's commit and then inserts nothing.
CLAIM_POSTED = (
    "INSERT INTO posted_events (id, workspace_id, event_id, name, fingerprint, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, event_id) DO NOTHING"
)
ANSWER_POSTED = "UPDATE posted_events SET answer = ? WHERE workspace_id = ? AND event_id = ?"


class EventTriggerNotFound(NotFound):
    code = "EVENT_TRIGGER_NOT_FOUND"

    def __init__(self, trigger_id: str) -> None:
        super().__init__(f"event trigger {trigger_id!r} not found", details={"id": trigger_id})


async def get_trigger(session: AsyncSession, workspace_id: str, trigger_id: str) -> EventTrigger:
    return await get_scoped(session, EventTrigger, workspace_id, trigger_id, EventTriggerNotFound)


async def list_triggers(
    session: AsyncSession, workspace_id: str, page: PageRequest, event_name: str | None
) -> Page[EventTrigger]:
    stmt = select(EventTrigger).where(EventTrigger.workspace_id == workspace_id)
    if event_name is not None:
        stmt = stmt.where(EventTrigger.event_name == event_name)
    return await paginate(session, stmt, page, SORTABLE, "-created_at", tiebreak=EventTrigger.id)


async def add_trigger(session: AsyncSession, trigger: EventTrigger) -> EventTrigger:
    session.add(trigger)
    await session.flush()
    return trigger


async def delete_trigger(session: AsyncSession, trigger: EventTrigger) -> None:
    await session.delete(trigger)
    await session.flush()
