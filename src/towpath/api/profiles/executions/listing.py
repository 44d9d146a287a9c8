"""`GET /api/v1/executions` pages as its document does, which is not at all: a client
reads one answer as the whole list. `page` and `per_page` are there for a client that
wants pages, as on towpath's own lists."""

# No `from __future__ import annotations`: FastAPI reads the sort type from the signature.

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, Query

from towpath.api.paging import sort_values
from towpath.services import runs as service
from towpath.storage.pagination import Page, PageRequest
from towpath.storage.runs import SORTABLE

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.runtime import Runtime
    from towpath.services.run_views import RunView

# Each read of a whole list takes this many runs at a time.
CHUNK = 100
SortBy = Literal[sort_values(SORTABLE)]  # type: ignore[valid-type]


class Listing:
    """One page when `per_page` (or `page`) is given, else every matching execution."""

    def __init__(self, page: int | None, per_page: int | None, sort: str) -> None:
        self.whole = page is None and per_page is None
        self.request = PageRequest(page=page or 1, per_page=per_page or 20, sort=sort)


async def listing(
    page: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="From 1; left out, every execution")
    ] = None,
    per_page: Annotated[
        int | None,
        Query(ge=1, le=100, description="Left out with `page`, every execution; else 20"),
    ] = None,
    sort: Annotated[
        SortBy,  # type: ignore[valid-type]
        Query(description="A column; `-` in front sorts it descending"),
    ] = "-created_at",
) -> Listing:
    return Listing(page, per_page, sort)


Pages = Annotated[Listing, Depends(listing)]


async def list_views(
    listed: Listing, runtime: "Runtime", caller: "Principal", **filters: Any
) -> "Page[RunView]":
    """`services.runs.list_views` over the whole list, or the one page asked for. A run
    started while the list is read is at most seen twice (it pushes the rest down a
    place), and is answered once."""
    if not listed.whole:
        return await service.list_views(runtime, caller, listed.request, **filters)
    request = replace(listed.request, per_page=CHUNK)
    found = await service.list_views(runtime, caller, request, **filters)
    items, seen = list(found.items), {view.run.id for view in found.items}
    while len(found.items) == CHUNK:
        request = replace(request, page=request.page + 1)
        found = await service.list_views(runtime, caller, request, **filters)
        fresh = [view for view in found.items if view.run.id not in seen]
        items += fresh
        seen.update(view.run.id for view in fresh)
    return Page(items=items, total=len(items))
