"""The figures a scenario measures, each beside its target, and the table they make."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    scenario: str
    name: str
    value: str
    target: str
    ok: bool


def exactly(scenario: str, name: str, value: int, target: int) -> Figure:
    return Figure(scenario, name, str(value), f"= {target}", value == target)


def at_most(scenario: str, name: str, value: float, target: float) -> Figure:
    return Figure(scenario, name, _number(value), f"<= {_number(target)}", value <= target)


def said(scenario: str, name: str, value: str, target: str, ok: bool) -> Figure:
    return Figure(scenario, name, value, target, ok)


def measured(scenario: str, name: str, value: float, unit: str = "") -> Figure:
    """A figure without a target: reported, never failing."""
    return Figure(scenario, name, f"{_number(value)}{unit}", "(measured)", True)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def table(figures: list[Figure]) -> str:
    rows = [("scenario", "figure", "value", "target", "")]
    rows += [(f.scenario, f.name, f.value, f.target, "ok" if f.ok else "MISSED") for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


_BEGAN = time.monotonic()


def note(message: str) -> None:
    """A line of progress on stderr, with the seconds since the command started."""
    print(f"[{time.monotonic() - _BEGAN:6.1f}] {message}", file=sys.stderr, flush=True)
