"""The engine's SQL, without an ORM: operations a transition yields, and the two dialects.

Transitions are written as generators that yield `Fetch`/`Execute`/`ExecuteMany` and get
the results sent back, so the same code is driven synchronously in SQLite's writer thread
and asynchronously over asyncpg. A statement is written once, with `?` placeholders.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Generator, Sequence


@dataclass(frozen=True)
class Fetch:
    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True)
class Execute:
    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True)
class ExecuteMany:
    sql: str
    rows: Sequence[Sequence[Any]]


Op = Fetch | Execute | ExecuteMany

if TYPE_CHECKING:
    from typing import TypeAlias, TypeVar

    T = TypeVar("T")
    # A transition: yields operations, is sent rows (Fetch) or counts (Execute), returns T.
    Gen: TypeAlias = Generator[Op, Any, T]


def fetch(sql: str, *params: Any) -> Generator[Op, Any, list[tuple[Any, ...]]]:
    rows: list[tuple[Any, ...]] = yield Fetch(sql, params)
    return rows


def execute(sql: str, *params: Any) -> Generator[Op, Any, int]:
    count: int = yield Execute(sql, params)
    return count


def execute_many(sql: str, rows: Sequence[Sequence[Any]]) -> Generator[Op, Any, None]:
    if rows:
        yield ExecuteMany(sql, rows)


@dataclass(frozen=True)
class Dialect:
    name: str

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgresql"

    def lock(self, clause: str = "FOR UPDATE") -> str:
        """A row-lock clause; SQLite has one writer at a time and needs none."""
        return clause if self.is_postgres else ""

    def time(self, value: datetime | None) -> Any:
        if value is None or self.is_postgres:
            return value
        return _sqlite_time(value)

    def read_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

    def any_of(self, column: str, sql_type: str = "varchar") -> str:
        """`column` (of `sql_type`) is one of a list bound as one parameter (see `ids`):
        one statement text for any number of values, so the driver's statement cache
        keeps it."""
        if self.is_postgres:
            return f"{column} = ANY(?::{sql_type}[])"
        return f"{column} IN (SELECT value FROM json_each(?))"

    def ids(self, values: Sequence[str | int]) -> Any:
        return list(values) if self.is_postgres else json.dumps(list(values))

    def doc(self, value: Any) -> Any:
        # asyncpg's jsonb codec (set on every connection) encodes for PostgreSQL.
        if value is None or self.is_postgres:
            return value
        return _encode(value)

    def read_doc(self, value: Any) -> Any:
        # SQLite gives a JSON column numeric affinity: a document that is a bare number
        # comes back as that number, not its text.
        if value is None or self.is_postgres or isinstance(value, int | float):
            return value
        return json.loads(value)


# One encoder for every document: json.dumps with options builds a new one per call.
_encode = json.JSONEncoder(separators=(",", ":")).encode


@lru_cache(maxsize=1024)
def _sqlite_time(value: datetime) -> str:
    # The format SQLAlchemy's SQLite dialect writes, so the ORM reads our rows. Cached:
    # one transition writes the same moment into many rows and events.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


_PLACEHOLDER = re.compile(r"\?")


def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...`."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


# PostgreSQL's now() is the moment its transaction began, the same at every call: a
# driver answers this op once per transaction and from memory after that.
TRANSACTION_NOW = Fetch("SELECT now()")


def database_now(d: Dialect) -> Generator[Op, Any, datetime]:
    """The database's clock: leases are judged by it, never by one worker's clock."""
    if not d.is_postgres:
        # One SQLite file is one machine: its clock is this process's clock.
        return datetime.now(UTC)
    rows = yield TRANSACTION_NOW
    moment: datetime = rows[0][0]
    return moment.astimezone(UTC)
