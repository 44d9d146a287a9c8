"""OpenAPI links: which operations take the id a response returns, for clients and for
tools that chain calls (a run started, then read, approved, cancelled)."""

from __future__ import annotations

from typing import Any


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
