"""Webhook trigger rows and their delivery log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from towpath.domain.errors import NotFound
from towpath.storage.models import WebhookDelivery, WebhookTrigger
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.scoped import get_scoped

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SORTABLE = {"created_at": WebhookTrigger.created_at, "name": WebhookTrigger.name}
DELIVERIES_SORTABLE = {"created_at": WebhookDelivery.created_at}


class WebhookTriggerNotFound(NotFound):
    code = "WEBHOOK_TRIGGER_NOT_FOUND"

    def __init__(self, trigger_id: str) -> None:
        super().__init__(f"webhook trigger {trigger_id!r} not found", details={"id": trigger_id})


async def find_trigger(session: AsyncSession, trigger_id: str) -> WebhookTrigger | None:
    """Any workspace's trigger: a delivery names only the trigger's id."""
    found: WebhookTrigger | None = await session.get(WebhookTrigger, trigger_id)
    return found


async def get_trigger(
    session: AsyncSession, workspace_id: str, trigger_id: str, *, for_update: bool = False
) -> WebhookTrigger:
    return await get_scoped(
        session,
        WebhookTrigger,
        workspace_id,
        trigger_id,
        WebhookTriggerNotFound,
        for_update=for_update,
    )


async def list_triggers(
    session: AsyncSession, workspace_id: str, page: PageRequest
) -> Page[WebhookTrigger]:
    stmt = select(WebhookTrigger).where(WebhookTrigger.workspace_id == workspace_id)
    return await paginate(session, stmt, page, SORTABLE, "-created_at", tiebreak=WebhookTrigger.id)


async def add_trigger(session: AsyncSession, trigger: WebhookTrigger) -> WebhookTrigger:
    session.add(trigger)
    await session.flush()
    return trigger


async def delete_trigger(session: AsyncSession, trigger: WebhookTrigger) -> None:
    # Explicit: SQLite enforces ON DELETE CASCADE only with its foreign-key pragma.
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.trigger_id == trigger.id))
    await session.delete(trigger)
    await session.flush()


async def add_delivery(session: AsyncSession, delivery: WebhookDelivery) -> None:
    session.add(delivery)
    await session.flush()


async def list_deliveries(
    session: AsyncSession, trigger_id: str, page: PageRequest
) -> Page[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.trigger_id == trigger_id)
    return await paginate(
        session, stmt, page, DELIVERIES_SORTABLE, "-created_at", tiebreak=WebhookDelivery.id
    )
