"""A step run's `attempts`: an entry for every execution that was started, however it
ended, lost ones included, so the history says what the outside world may have seen.

An execution whose worker died or stopped does not use up an attempt: the next one runs
the same attempt again, with the same idempotency key, and its entry says `rerun`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from towpath.domain.states import EventType
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.work import idempotency_key

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.storage.rows import StepRow

# Outcomes of an execution that ended before the step's own answer: its attempt runs again.
UNFINISHED = frozenset({"lost", "interrupted"})


class Transition(Protocol):
    """What of a run's transition (`engine.transition.RunTransaction`) a lost attempt uses."""

    now: datetime

    def emit(self, event_type: str, step_id: str | None = None, **data: Any) -> None: ...


def record_attempt(
    row: StepRow, outcome: str, ended_at: datetime | None, **details: Any
) -> dict[str, Any]:
    """Add the entry of the execution `row` holds now (its number, start and worker)."""
    entry: dict[str, Any] = {
        "attempt": row.attempt,
        "idempotency_key": idempotency_key(row.run_id, row.step_id, row.item_index, row.attempt),
        "worker": row.lease_owner,
        "started_at": _iso(row.started_at),
        "ended_at": _iso(ended_at),
        "outcome": outcome,
        **details,
    }
    earlier = row.attempts or []
    if any(e.get("attempt") == row.attempt and e.get("outcome") in UNFINISHED for e in earlier):
        entry["rerun"] = True
    row.attempts = [*earlier, entry]
    return entry


def settle_waiting_attempt(row: StepRow, outcome: str, ended_at: datetime, **details: Any) -> None:
    """The attempt that waited for work done elsewhere (a `task` step's worker) ended with
    that work's answer: its entry says so, not `waiting`."""
    entries = list(row.attempts or [])
    for i in range(len(entries) - 1, -1, -1):
        entry = entries[i]
        if entry.get("attempt") == row.attempt and entry.get("outcome") == "waiting":
            entries[i] = {**entry, "outcome": outcome, "ended_at": _iso(ended_at), **details}
            row.attempts = entries
            return


def lose_attempt(rt: Transition, row: StepRow) -> None:
    """The worker executing `row` let its lease run out: it died, or hung. What it did
    may have reached the outside world; the entry and an event say so."""
    entry = record_attempt(
        row,
        "lost",
        None,
        lease_expired_at=_iso(row.lease_expires_at),
        reclaimed_at=_iso(rt.now),
    )
    data = {key: entry[key] for key in ("attempt", "idempotency_key", "worker", "started_at")}
    data["lease_expired_at"] = entry["lease_expired_at"]
    data["step_type"] = row.step_type
    if row.item_index != WHOLE_STEP:
        data["item_index"] = row.item_index
    rt.emit(EventType.STEP_ATTEMPT_LOST, row.step_id, **data)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
