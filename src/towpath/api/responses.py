"""Response helpers shared by routes: list headers, replayed creations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import Response

    from towpath.storage.pagination import Page

TOTAL_HEADERS: dict[str, Any] = {
    "X-Total-Count": {
        "description": "How many there are in all pages",
        "schema": {"type": "integer", "minimum": 0},
    }
}
# A list's 200, documented with the header that carries the total.
LISTED: dict[int | str, dict[str, Any]] = {
    200: {"description": "One page of the list", "headers": TOTAL_HEADERS}
}


def set_total(response: Response, page: Page[object]) -> None:
    """`X-Total-Count`, and whether it is exact or only a lower bound (a count stops a
    fixed number of rows past the page, see `storage.pagination`)."""
    response.headers["X-Total-Count"] = str(page.total)
    response.headers["X-Total-Count-Exact"] = "true" if page.exact else "false"


def mark_created(response: Response, replayed: bool) -> None:
    """201 for a new resource; 200 and `Idempotent-Replayed` for an earlier result."""
    response.status_code = 200 if replayed else 201
    if replayed:
        mark_replayed(response)


def mark_replayed(response: Response) -> None:
    """The answer is an earlier request's, by its idempotency key."""
    response.headers["Idempotent-Replayed"] = "true"


# The header of a 200 that answers a creating request with its earlier result.
REPLAYED_HEADERS: dict[str, Any] = {
    "Idempotent-Replayed": {
        "description": "The result of an earlier request with this idempotency key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
