"""What a completed step leaves besides its output, written in the transition that completes
it: the named metrics it reports (`metrics` in its output) with the engine's own (its
duration, an llm step's tokens), and the named event an `emit` step sends."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from towpath.domain.ids import new_id
from towpath.engine.sql import execute_many

if TYPE_CHECKING:
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import StepRow

# Committed as a run event like any other, so every stream and replay carries it.
STEP_EMITTED = "step.emitted"
MAX_METRICS = 50
MAX_NAME = 100

METRIC_COLUMNS = (
    "id",
    "workspace_id",
    "run_id",
    "lineage_id",
    "step_id",
    "name",
    "value",
    "source",
    "created_at",
)
_INSERT = (
    f"INSERT INTO run_metrics ({', '.join(METRIC_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in METRIC_COLUMNS)})"
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        # A template renders to text: "12" is still a number.
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def step_metrics(row: StepRow, output: Any, rt: RunTransaction) -> list[tuple[str, float, str]]:
    """(name, value, source) for each metric: the step's numbers, then the engine's."""
    found: list[tuple[str, float, str]] = []
    declared = output.get("metrics") if isinstance(output, dict) else None
    if isinstance(declared, dict):
        for name, value in list(declared.items())[:MAX_METRICS]:
            number = _number(value)
            if number is not None and 0 < len(name) <= MAX_NAME:
                found.append((name, number, "step"))
    if row.step_type == "llm" and isinstance(output, dict):
        usage = output.get("usage")
        tokens = _number(usage.get("total_tokens")) if isinstance(usage, dict) else None
        if tokens is not None:
            found.append(("tokens", tokens, "engine"))
    if row.started_at is not None:
        seconds = max((rt.now - row.started_at).total_seconds(), 0.0)
        found.append(("duration_seconds", seconds, "engine"))
    return found


def record_completion(rt: RunTransaction, row: StepRow, output: Any) -> None:
    """Emit an `emit` step's event; keep the step's metrics for `write_metrics`, which
    writes them after the run's row (a run started in this transaction has none yet)."""
    if row.step_type == "emit" and isinstance(output, dict):
        rt.emit(STEP_EMITTED, row.step_id, name=output.get("event"), data=output.get("data"))
    run, when = rt.run, rt.d.time(rt.now)
    rt.metrics += [
        [new_id(), run.workspace_id, run.id, run.lineage_id, row.step_id, name, value, source, when]
        for name, value, source in step_metrics(row, output, rt)
    ]


def write_metrics(rows: list[list[Any]]) -> Gen[None]:
    yield from execute_many(_INSERT, rows)
