"""Writes made both by engine transitions and in a session, written once.

Engine transitions run SQL text with `?` placeholders (see `towpath.engine.sql`); a
session runs the same text here, its values typed as the ORM types them, so either way
the same statement writes the same row."""

from __future__ import annotations

import re
from itertools import count
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, text

if TYPE_CHECKING:
    from sqlalchemy import TextClause
    from sqlalchemy.types import TypeEngine

_PLACEHOLDER = re.compile(r"\?")


def for_session(sql: str, *types: TypeEngine[Any] | None) -> TextClause:
    """`sql` with its n-th `?` bound as `:pn`, typed by the n-th of `types` (None: as is)."""
    numbers = count()
    clause = text(_PLACEHOLDER.sub(lambda _: f":p{next(numbers)}", sql))
    typed = [bindparam(f"p{n}", type_=kind) for n, kind in enumerate(types) if kind is not None]
    return clause.bindparams(*typed)


def positional(*values: Any) -> dict[str, Any]:
    """The values of a statement made by `for_session`, in placeholder order."""
    return {f"p{n}": value for n, value in enumerate(values)}


def as_is(value: Any) -> Any:
    return value
