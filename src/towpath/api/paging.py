"""The parameters of every list: `page`, `per_page`, and `sort` by one of the list's columns."""

# No `from __future__ import annotations` here: each list's `sort` type is made when the
# list is declared, and FastAPI reads it from the dependency's real signature.

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from fastapi import Depends, Query

from towpath.storage.pagination import PageRequest


def sort_values(fields: Iterable[str]) -> tuple[str, ...]:
    """Each column ascending, then with `-` in front for descending."""
    return tuple(value for field in sorted(fields) for value in (field, f"-{field}"))


def paging(fields: Iterable[str], default: str) -> Any:
    """The dependency of a list sorted by one of `fields`, for
    `Annotated[PageRequest, paging(...)]`; the OpenAPI document lists the values, and another
    is refused like any invalid parameter (422)."""
    values = sort_values(fields)
    if default not in values:
        raise ValueError(f"default sort {default!r} is not one of {values}")
    sort_type = Literal[values]  # type: ignore[valid-type]

    async def page_request(
        page: Annotated[int, Query(ge=1, le=1_000_000, description="From 1")] = 1,
        per_page: Annotated[int, Query(ge=1, le=100)] = 20,
        sort: Annotated[
            sort_type,
            Query(description="A column; `-` in front sorts it descending"),
        ] = default,
    ) -> PageRequest:
        return PageRequest(page=page, per_page=per_page, sort=sort)

    return Depends(page_request)
