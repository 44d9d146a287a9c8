"""OpenAPI links: which operations take the id a response returns, for clients and for
tools that chain calls (a run started, then read, approved, cancelled)."""

from __future__ import annotations

from typing import Any

from towpath.api.responses import REPLAYED_HEADERS


def links(parameter: str, *operations: str) -> dict[str, Any]:
    """Links to `operations`, each given the response body's `id` as `parameter`."""
    return {
        operation: {"operationId": operation, "parameters": {parameter: "$response.body#/id"}}
        for operation in operations
    }


def described(
    description: str, *, with_links: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """One documented response: its description, and its links when it has any."""
    found: dict[str, Any] = {"description": description, **extra}
    if with_links:
        found["links"] = with_links
    return found


def created_or_replayed(
    created: str, replayed: str, model: type[Any], with_links: dict[str, Any]
) -> dict[int | str, dict[str, Any]]:
    """A creating operation's answers: 201 with what it made, or 200 with what an earlier
    request with the same idempotency key made (marked by its replay headers)."""
    return {
        201: described(created, with_links=with_links),
        200: described(replayed, model=model, with_links=with_links, headers=REPLAYED_HEADERS),
    }
