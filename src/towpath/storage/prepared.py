"""Statements a SQLite reader runs on the driver itself, compiled once.

A read that a dashboard makes all day (a run, its steps, a page of runs) is a statement
built once with bound parameters. Executing it through SQLAlchemy still costs, at every
execution, its compiled-cache lookup, an execution context, events and a result object:
twice what SQLite takes to answer. A statement marked `prepared` is compiled once for
SQLite; a reader thread binds its parameters and converts its columns with the same type
processors SQLAlchemy would use, and runs it on the sqlite3 connection of the read's
transaction. Elsewhere (PostgreSQL, a session of the engine) the statement is an ordinary
one: the mark is an execution option that nothing else reads."""

from __future__ import annotations

import functools
import keyword
from collections import namedtuple
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from sqlalchemy import Connection, Select
    from sqlalchemy.engine import Dialect

S = TypeVar("S", bound="Select[Any]")

OPTION = "towpath_prepared"


def prepared(statement: S) -> S:
    """`statement`, marked to be run by SQLite readers on the driver."""
    marked: S = statement.execution_options(**{OPTION: True})
    return marked


def is_prepared(statement: Any) -> bool:
    options = getattr(statement, "get_execution_options", None)
    return bool(options is not None and options().get(OPTION))


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Each positional parameter: its name, whether a value must be given, the value the
    # statement holds otherwise, and the type's bind processor.
    parameters: tuple[tuple[str, bool, Any, Callable[[Any], Any] | None], ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    row: Callable[..., tuple[Any, ...]]


@functools.lru_cache(maxsize=512)
def _compiled(statement: Select[Any], dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    if compiled.positiontup is None:
        raise TypeError("prepared reads run on a dialect with positional parameters")
    parameters = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding:
            raise TypeError("a prepared statement cannot have an IN list expanded per call")
        held = bind.value if bind.callable is None else bind.effective_value
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        parameters.append((bind.key, bind.required, held, process))
    columns = list(statement.selected_columns)
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    names = [_field(column.key, index) for index, column in enumerate(columns)]
    row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    return _Compiled(str(compiled), tuple(parameters), processors, row)


def _field(key: str | None, index: int) -> str:
    if key is None or not key.isidentifier() or keyword.iskeyword(key) or key.startswith("_"):
        return f"column_{index}"
    return key


class Rows:
    """The rows of a prepared statement: what reads ask of SQLAlchemy's results."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def all(self) -> Sequence[tuple[Any, ...]]:
        return self._rows

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


def run(
    connection: Connection, statement: Select[Any], params: Mapping[str, Any] | None = None
) -> Rows:
    """`statement` on `connection`'s sqlite3 connection, in its transaction."""
    compiled = _compiled(statement, connection.dialect)
    given = params or {}
    values = []
    for name, required, held, process in compiled.parameters:
        if name in given:
            value = given[name]
        elif required:
            raise KeyError(f"a value is required for the parameter {name!r}")
        else:
            value = held
        values.append(value if process is None else process(value))
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the read's connection is closed")
    fetched = driver.execute(compiled.sql, values).fetchall()
    make = compiled.row
    processors = compiled.processors
    if not any(processors):
        return Rows([make(*found) for found in fetched])
    return Rows(
        [
            make(*[v if p is None else p(v) for p, v in zip(processors, found, strict=True)])
            for found in fetched
        ]
    )
