"""Response helpers shared by routes: list headers, replayed creations."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import Response

    from towpath.storage.pagination import Page


def set_total(response: Response, page: Page[object]) -> None:
    response.headers["X-Total-Count"] = str(page.total)


def mark_created(response: Response, replayed: bool) -> None:
    """201 for a new resource; 200 and `Idempotent-Replayed` for an earlier result."""
    response.status_code = 200 if replayed else 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
