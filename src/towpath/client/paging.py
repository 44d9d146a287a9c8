"""A page of a list endpoint, and the page numbers a whole list is read by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
# The API's largest page.
PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and how many items the whole list has (`X-Total-Count`)."""

    items: list[T]
    total: int | None
    page: int
    per_page: int

    @property
    def last(self) -> bool:
        if self.total is not None:
            return self.page * self.per_page >= self.total
        return len(self.items) < self.per_page


def total_count(response: httpx.Response) -> int | None:
    found = response.headers.get("x-total-count")
    if found is None or not (found.isascii() and found.isdigit()):
        return None
    return int(found)
