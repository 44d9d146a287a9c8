"""One call of the API described as data: which request to send and what its answer is.

`towpath.client.calls` makes one per operation; `Client` sends it with httpx's sync
client and `AsyncClient` with its async one, so each operation is written once."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

T = TypeVar("T")
API_PREFIX = "/api/v1"


def _part(value: str) -> str:
    """A path segment: an id or a name with a slash in it stays one segment."""
    return quote(value, safe="")


def _query_value(value: object) -> str:
    # The API reads booleans as JSON writes them (true/false), not as Python's str().
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@functools.cache
def _adapter(answer: Any) -> TypeAdapter[Any]:
    return TypeAdapter(answer)


@dataclass(frozen=True)
class Call(Generic[T]):
    """A request and the type its successful answer is read as."""

    method: str
    path: str
    answer: Any
    params: Mapping[str, object] = field(default_factory=dict)
    headers: Mapping[str, object] = field(default_factory=dict)
    body: BaseModel | Mapping[str, Any] | None = None
    # Outside /api/v1: /health, /metrics.
    root: bool = False

    @property
    def url(self) -> str:
        return self.path if self.root else API_PREFIX + self.path

    def query(self) -> dict[str, str]:
        return {k: _query_value(v) for k, v in self.params.items() if v is not None}

    def header_values(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.headers.items() if v is not None}

    def content(self) -> bytes | None:
        if self.body is None:
            return None
        if isinstance(self.body, BaseModel):
            return self.body.model_dump_json(by_alias=True, exclude_unset=True).encode()
        return json.dumps(self.body).encode()

    def read(self, response: httpx.Response) -> T:
        """The answer of a successful response, as its model."""
        if self.answer is None or response.status_code == 204:
            return None  # type: ignore[return-value] # a Call[None]
        if self.answer is str:
            return response.text  # type: ignore[return-value] # a Call[str]
        found: T = _adapter(self.answer).validate_json(response.content)
        return found

    @property
    def paged(self) -> bool:
        return "page" in self.params

    def page(self, number: int, per_page: int) -> Call[T]:
        """The same call for one page of a list."""
        return replace(self, params={**self.params, "page": number, "per_page": per_page})
