"""The one pagination helper every list uses."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import bindparam, func, literal_column, select

from towpath.domain.errors import InvalidRequest
from towpath.storage.prepared import is_prepared, prepared

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import QueryableAttribute

# Counting every matching row costs as much as reading them all. A list counts exactly up
# to this many rows past the end of the page asked for; past that its total is a lower
# bound, and says so (`Page.exact`).
COUNT_BEYOND_PAGE = 10_000

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    per_page: int = 20
    # A column name from the list's allow-list, `-` in front for descending.
    sort: str | None = None


@dataclass(frozen=True)
class Page(Generic[T_co]):
    items: Sequence[T_co]
    # The matching rows; only at least this many when `exact` is false.
    total: int
    exact: bool = True


class UnknownSortField(InvalidRequest):
    code = "INVALID_SORT"

    def __init__(self, field: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"cannot sort by {field!r}; use one of {', '.join(allowed)}",
            details={"sort": field, "allowed": list(allowed)},
        )


def _ordered(column: QueryableAttribute[Any], *, descending: bool) -> Any:
    """The column's ORDER BY term. Rows without a value (a run not ended has no
    completed_at) come last either way, on both databases: left alone, PostgreSQL puts
    NULL first when descending and SQLite first when ascending. Only nullable columns say
    so, so an index on a NOT NULL column still serves the sort."""
    term = column.desc() if descending else column.asc()
    nullable = getattr(column.expression, "nullable", True)
    return term.nulls_last() if nullable else term


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    request: PageRequest,
    sortable: Mapping[str, QueryableAttribute[Any]],
    default_sort: str,
    *,
    tiebreak: QueryableAttribute[Any],
    shape: Callable[[Any], T] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Page[T]:
    """A page of `stmt`'s rows: its entities, or each row made by `shape`. A `stmt` built
    once, its values bound by name from `params`, has its count and page statements built
    once too: building them cost more than SQLite takes to answer a page."""
    bound = request.page * request.per_page + COUNT_BEYOND_PAGE
    sort = request.sort or default_sort
    field = sort.removeprefix("-")
    column = sortable.get(field)
    if column is None:
        raise UnknownSortField(field, sorted(sortable))
    descending = sort.startswith("-")
    derive = _derived if params is None else _derived_once
    counting, window = derive(stmt, column, tiebreak, descending=descending)
    values = {
        **(params or {}),
        # One more than the bound tells "exactly bound" from "more".
        "count_limit": bound + 1,
        "page_offset": (request.page - 1) * request.per_page,
        "page_limit": request.per_page,
    }
    counted: int | None = await session.scalar(counting, values)
    rows: Sequence[T]
    if shape is None:
        rows = (await session.scalars(window, values)).all()
    else:
        rows = [shape(row) for row in await session.execute(window, values)]
    found = counted or 0
    return Page(items=rows, total=min(found, bound), exact=found <= bound)


def _derived(
    stmt: Select[Any],
    column: QueryableAttribute[Any],
    tiebreak: QueryableAttribute[Any],
    *,
    descending: bool,
) -> tuple[Select[Any], Select[Any]]:
    """The statement counting `stmt`'s rows up to a bound, and the one reading a page."""
    # Selecting a constant lets the count read an index alone.
    matching: Select[Any] = stmt.order_by(None).with_only_columns(
        literal_column("1"), maintain_column_froms=True
    )
    counting = select(func.count()).select_from(matching.limit(bindparam("count_limit")).subquery())
    # A unique tiebreak keeps pages stable when many rows share the sort value.
    ordered = stmt.order_by(
        _ordered(column, descending=descending),
        tiebreak.desc() if descending else tiebreak.asc(),
    )
    window = ordered.offset(bindparam("page_offset")).limit(bindparam("page_limit"))
    return counting, window


@functools.lru_cache(maxsize=256)
def _derived_once(
    stmt: Select[Any],
    column: QueryableAttribute[Any],
    tiebreak: QueryableAttribute[Any],
    *,
    descending: bool,
) -> tuple[Select[Any], Select[Any]]:
    counting, window = _derived(stmt, column, tiebreak, descending=descending)
    # The page inherits a prepared statement's mark; the count is a statement of its own.
    return (prepared(counting) if is_prepared(stmt) else counting), window
