"""How the commands print: JSON for scripts (`--json`), Rich tables for people."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

console = Console()
STATUS_STYLES = {
    "completed": "green",
    "published": "green",
    "running": "cyan",
    "queued": "blue",
    "pending": "dim",
    "waiting": "yellow",
    "retrying": "yellow",
    "paused": "magenta",
    "held": "magenta",
    "failed": "red",
    "cancelled": "red",
    "skipped": "dim",
    "draft": "dim",
}


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def print_json(value: Any) -> None:
    """One JSON document on stdout."""
    print(json.dumps(_plain(value), indent=2))


def status(text: str) -> str:
    return f"[{STATUS_STYLES.get(text, 'white')}]{escape(text)}[/]"


def shown(value: object) -> str:
    """Text from the server (a name, an error, a message someone typed) as it is, never
    read as Rich markup: `[/finance]` in a comment is text, not a closing tag."""
    return escape(str(value))


def moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


# Columns of ids, kept whole however narrow the terminal: an id is copied into the next
# command, and `01a22626-c23d-…` cannot be.
ID_COLUMNS = frozenset({"id", "run"})


def table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Cells are markup: a cell of text from the server goes through `shown`."""
    found = Table(*columns, box=None, header_style="bold")
    listed = [list(row) for row in rows]
    for i, column in enumerate(found.columns):
        if columns[i] in ID_COLUMNS:
            column.no_wrap = True
            column.min_width = max((len(row[i]) for row in listed), default=0)
    for row in listed:
        found.add_row(*row)
    console.print(found)
