"""Response helpers shared by routes: list headers, replayed creations."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import Response

    from towpath.storage.pagination import Page


def set_total(response: Response, page: Page[object]) -> None:
    """`X-Total-Count`, and whether it is exact or only a lower bound (a count stops a
    fixed number of rows past the page, see `storage.pagination`)."""
    response.headers["X-Total-Count"] = str(page.total)
    response.headers["X-Total-Count-Exact"] = "true" if page.exact else "false"


def mark_created(response: Response, replayed: bool) -> None:
    """201 for a new resource; 200 and `Idempotent-Replayed` for an earlier result."""
    response.status_code = 200 if replayed else 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
