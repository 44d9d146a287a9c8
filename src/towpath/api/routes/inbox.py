"""The caller's inbox: the waiting steps it may answer across runs and workflows, their
count for a badge, and a WebSocket that tells each change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Query, Response, WebSocket

from towpath.api.deps import DB, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, set_total
from towpath.api.routes.streams import serve_socket
from towpath.api.schemas.inbox import InboxCount, InboxItemResponse, InboxType
from towpath.api.schemas.strict import MOMENT_RULE, Moment
from towpath.services import inbox as service
from towpath.storage.inbox import InboxFilter
from towpath.storage.pagination import PageRequest

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towpath.api.socket_auth import SocketCaller
    from towpath.auth.principal import Principal
    from towpath.events.feeds import Feed
    from towpath.events.inbox import InboxLookup
    from towpath.events.streams import Streams
    from towpath.storage.database import Database

router = APIRouter(prefix="/inbox", tags=["inbox"])
# Mounted at the root: /ws/inbox.
socket_router = APIRouter(tags=["inbox"])
InboxPages = Annotated[PageRequest, paging(service.SORTABLE, "waiting_since")]


def inbox_filter(
    workflow_id: Annotated[
        str | None, Query(max_length=36, description="Only the steps of runs of this version")
    ] = None,
    type: Annotated[InboxType | None, Query(description="Only steps of this type")] = None,
    since: Annotated[
        Moment | None, Query(description=f"Waiting since this or later: {MOMENT_RULE}")
    ] = None,
) -> InboxFilter:
    return InboxFilter(workflow_id=workflow_id, step_type=type, since=since)


Filter = Annotated[InboxFilter, Depends(inbox_filter)]


@router.get("", responses=LISTED)
async def list_inbox(
    db: DB, caller: Viewer, page: InboxPages, where: Filter, response: Response
) -> list[InboxItemResponse]:
    """Waiting approvals the caller may vote on now (an approver, not barred as the run's
    starter, not having voted) and waiting clarifications, oldest first. Answering needs
    the operator role: a viewer's inbox is empty."""
    found = await service.list_inbox(db, caller, where, page)
    set_total(response, found)
    return [InboxItemResponse.of(item) for item in found.items]


@router.get("/count")
async def count_inbox(db: DB, caller: Viewer, where: Filter) -> InboxCount:
    return InboxCount(count=await service.count_inbox(db, caller, where))


@socket_router.websocket("/ws/inbox")
async def watch_inbox(websocket: WebSocket) -> None:
    """A `snapshot` message (`count`, `items`), then `added`, `changed` (votes came in)
    and `removed` messages, each with the `count` after it."""

    async def inbox_feed(streams: Streams, caller: SocketCaller) -> Feed:
        who = caller.principal
        lookup = _lookup(websocket.app.state.db, who)
        return await streams.inbox_feed(who.workspace_id, lookup, caller.expires_at, who)

    await serve_socket(websocket, inbox_feed)


def _lookup(db: Database, caller: Principal) -> InboxLookup:
    async def lookup(run_id: str | None) -> Mapping[tuple[str, str], str]:
        items = await service.run_items(db, caller, run_id)
        return {
            (item.step.run_id, item.step.step_id): InboxItemResponse.of(item).model_dump_json()
            for item in items
        }

    return lookup
